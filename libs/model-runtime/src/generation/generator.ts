import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FinishReason } from '@hotpath/contracts';
import type { KvCache } from '../batching/kv-block';
import type { CausalLm } from './causal-lm';
import type {
  GenerateHooks,
  GenerationDefaults,
  GenerationOutput,
  GenerationRequest,
} from './generation-types';
import { SequenceState } from './sequence-state';

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
  const seqs = requests.map((r, i) => SequenceState.create(tok, r, defaults, maxPos, `prompt ${i}`));
  const firstTokenMs: (number | null)[] = seqs.map(() => null);
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
  let step = 0;

  for (;;) {
    for (let b = 0; b < B; b++) {
      const s = seqs[b] as SequenceState;
      if (s.finish) continue;
      const { token } = s.accept(out.logits.subarray(rowOffset(b), rowOffset(b) + V));
      if (!token) continue;
      firstTokenMs[b] ??= performance.now() - t0;
      hooks.onToken?.(b, token);
    }
    if (seqs.every((s) => s.finish)) break;
    // Let abort messages and timers run between tokens (a replica thread's loop included).
    await yieldToLoop();
    if (hooks.signal?.aborted) {
      for (const s of seqs) s.finish ??= 'cancelled';
      break;
    }
    const stepIds: number[] = [];
    const stepPos: number[] = [];
    seqs.forEach((s, b) => {
      stepIds.push(s.finish ? defaults.padId : s.lastToken);
      stepPos.push(s.prompt.length + step);
      (maskRows[b] as number[]).push(s.finish ? 0 : 1);
    });
    step++;
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
  return seqs.map((s, b) => ({
    promptTokens: s.prompt,
    tokens: s.tokens,
    text: s.text,
    finishReason: s.finish as FinishReason,
    firstTokenMs: firstTokenMs[b] ?? null,
    inferenceMs,
  }));
}
