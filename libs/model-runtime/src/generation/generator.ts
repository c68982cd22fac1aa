import { randomInt } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { Prng } from '../forge/prng';
import { TokenTextStream } from '../tokenizer/bpe-tokenizer';
import type { CausalLm, KvCache } from './causal-lm';
import { sampleToken } from './sampler';

/** Generation parameters of one sequence (the job's `params`, snake_case as on the wire). */
export interface GenerationParams {
  max_tokens?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  seed?: number;
  stop?: string[];
}

/** One sequence to generate: a prompt text (encoded with BOS) or ready token ids. */
export interface GenerationRequest {
  prompt: string | readonly number[];
  params?: GenerationParams;
}

/** A generated token as it is produced. */
export interface GeneratedToken {
  index: number;
  token_id: number;
  /** Text completed by this token (may be empty while a multi-byte character is incomplete). */
  text: string;
}

/** Why a sequence ended. */
export type FinishReason = 'stop' | 'length' | 'cancelled';

/** The result of one sequence. */
export interface GenerationOutput {
  promptTokens: number[];
  /** Generated ids only (an EOS that ended the sequence is not included). */
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  /** ms from the start of the call to this sequence's first token (null when none). */
  firstTokenMs: number | null;
  /** ms of model execution for the whole batch call. */
  inferenceMs: number;
}

/** Hooks of a generation call. */
export interface GenerateHooks {
  /** Checked between tokens; an aborted call returns what it has with `finishReason: 'cancelled'`. */
  signal?: AbortSignal;
  onToken?: (sequence: number, token: GeneratedToken) => void;
}

/** Generation defaults (from generation_config.json and serving config). */
export interface GenerationDefaults {
  maxTokens: number;
  temperature: number;
  eosIds: readonly number[];
  padId: number;
}

interface SeqState {
  prompt: number[];
  tokens: number[];
  text: string;
  stream: TokenTextStream;
  rng: Prng;
  settings: { temperature: number; topK: number; topP: number };
  maxTokens: number;
  stop: string[];
  done: FinishReason | null;
  nextPos: number;
  firstTokenMs: number | null;
}

/**
 * Generates for several sequences at once: left-padded prefill (attention_mask marks the
 * padding, position_ids count real tokens only), then one decode step per token with the KV
 * cache. Each sequence gets the same greedy tokens as it would alone.
 */
export async function generate(
  lm: CausalLm,
  requests: readonly GenerationRequest[],
  defaults: GenerationDefaults,
  hooks: GenerateHooks = {},
): Promise<GenerationOutput[]> {
  const t0 = performance.now();
  let inferenceMs = 0;
  const tok = lm.model.tokenizer;
  const maxPos = lm.config.max_position_embeddings;
  const eos = new Set(defaults.eosIds);
  const seqs: SeqState[] = requests.map((r, i) => {
    const prompt = typeof r.prompt === 'string' ? tok.encode(r.prompt) : [...r.prompt];
    if (prompt.length === 0)
      throw new HotpathError(ErrorCode.InvalidInput, `prompt ${i} encodes to no tokens`, 'input.prompt');
    if (prompt.length >= maxPos) {
      throw new HotpathError(
        ErrorCode.InvalidInput,
        `prompt ${i} has ${prompt.length} tokens; the model's context is ${maxPos}`,
        'input.prompt',
      );
    }
    const p = r.params ?? {};
    return {
      prompt,
      tokens: [],
      text: '',
      stream: new TokenTextStream(tok, prompt[prompt.length - 1]),
      rng: new Prng(p.seed ?? randomInt(0, 2 ** 32 - 1)),
      settings: {
        temperature: p.temperature ?? defaults.temperature,
        topK: p.top_k ?? 0,
        topP: p.top_p ?? 1,
      },
      maxTokens: p.max_tokens ?? defaults.maxTokens,
      stop: p.stop ?? [],
      done: null,
      nextPos: prompt.length,
      firstTokenMs: null,
    };
  });
  const B = seqs.length;
  const V = lm.vocabSize;
  const maxLen = Math.max(...seqs.map((s) => s.prompt.length));
  const ids: number[] = [];
  const mask: number[] = [];
  const pos: number[] = [];
  for (const s of seqs) {
    const pad = maxLen - s.prompt.length;
    for (let j = 0; j < maxLen; j++) {
      ids.push(j < pad ? defaults.padId : (s.prompt[j - pad] as number));
      mask.push(j < pad ? 0 : 1);
      pos.push(j < pad ? 0 : j - pad);
    }
  }
  // Attention mask rows grow by one column per step; kept per row, flattened per call.
  const maskRows = seqs.map((_, b) => mask.slice(b * maxLen, (b + 1) * maxLen));
  let t = performance.now();
  let out = await lm.forward({
    batch: B,
    seq: maxLen,
    inputIds: ids,
    attentionMask: mask,
    positionIds: pos,
    past: null,
  });
  inferenceMs += performance.now() - t;
  let past: KvCache = out.present;
  let rowOffset = (b: number): number => (b * maxLen + maxLen - 1) * V;

  for (;;) {
    for (let b = 0; b < B; b++) {
      const s = seqs[b] as SeqState;
      if (s.done) continue;
      const id = sampleToken(out.logits.subarray(rowOffset(b), rowOffset(b) + V), s.settings, s.rng);
      if (eos.has(id)) {
        s.done = 'stop';
        continue;
      }
      s.tokens.push(id);
      s.firstTokenMs ??= performance.now() - t0;
      const piece = s.stream.push(id);
      const before = s.text.length;
      s.text += piece;
      const hit = firstStop(s.text, s.stop, Math.max(0, before - maxStopLen(s.stop)));
      if (hit >= 0) {
        s.text = s.text.slice(0, hit);
        s.done = 'stop';
      }
      hooks.onToken?.(b, { index: s.tokens.length - 1, token_id: id, text: piece });
      if (!s.done && (s.tokens.length >= s.maxTokens || s.nextPos + 1 >= maxPos)) s.done = 'length';
    }
    if (seqs.every((s) => s.done)) break;
    // Let abort messages and timers run between tokens (a replica thread's loop included).
    await yieldToLoop();
    if (hooks.signal?.aborted) {
      for (const s of seqs) s.done ??= 'cancelled';
      break;
    }
    const stepIds: number[] = [];
    const stepPos: number[] = [];
    seqs.forEach((s, b) => {
      stepIds.push(s.done ? defaults.padId : (s.tokens[s.tokens.length - 1] as number));
      stepPos.push(s.nextPos);
      (maskRows[b] as number[]).push(s.done ? 0 : 1);
      s.nextPos++;
    });
    t = performance.now();
    out = await lm.forward({
      batch: B,
      seq: 1,
      inputIds: stepIds,
      attentionMask: maskRows.flat(),
      positionIds: stepPos,
      past,
    });
    inferenceMs += performance.now() - t;
    past = out.present;
    rowOffset = (b) => b * V;
  }
  // An incomplete UTF-8 tail (a cut multi-byte character) is left out, so the text always equals
  // the concatenation of the streamed pieces.
  return seqs.map((s) => {
    return {
      promptTokens: s.prompt,
      tokens: s.tokens,
      text: s.text,
      finishReason: s.done as FinishReason,
      firstTokenMs: s.firstTokenMs,
      inferenceMs,
    };
  });
}

function maxStopLen(stop: readonly string[]): number {
  return stop.reduce((m, s) => Math.max(m, s.length), 0);
}

function firstStop(text: string, stop: readonly string[], from: number): number {
  let best = -1;
  for (const s of stop) {
    const i = text.indexOf(s, from);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}
