import assert from 'node:assert/strict';
import { IterationScheduler } from '@hotpath/batching';
import type { EngineMode } from '@hotpath/contracts';
import type { KvCache } from '../batching/kv-block';
import type { CausalLm } from '../generation/causal-lm';
import { LocalModel } from '../generation/local-model';
import { DEFAULT_EXECUTION, type ExecutionSettings } from '../session/ort-session';
import { SequenceState } from '../generation/sequence-state';
import type { ReferenceLlama } from './reference-llama';

/** Max |a-b| over two equal-length arrays. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Reference logits for every position of a sequence (a fresh oracle per sequence). */
export function referenceLogits(make: () => ReferenceLlama, seq: readonly number[]): Float32Array[] {
  const ref = make();
  return seq.map((t, pos) => ref.forward(t, pos));
}

/**
 * ONNX logits for every real position of every sequence: a left-padded prefill of the first
 * `prefill[b]` tokens, then the rest one token per step through the KV cache (all sequences step
 * together; finished rows feed padding with mask 0).
 */
export async function onnxLogits(
  lm: CausalLm,
  seqs: readonly (readonly number[])[],
  prefill: readonly number[],
): Promise<Float32Array[][]> {
  const V = lm.vocabSize;
  const B = seqs.length;
  const P = Math.max(...prefill);
  const ids: number[] = [];
  const mask: number[][] = [];
  const pos: number[] = [];
  seqs.forEach((s, b) => {
    const n = prefill[b] as number;
    const row: number[] = [];
    for (let j = 0; j < P; j++) {
      const real = j >= P - n;
      ids.push(real ? (s[j - (P - n)] as number) : 0);
      pos.push(real ? j - (P - n) : 0);
      row.push(real ? 1 : 0);
    }
    mask.push(row);
  });
  const result: Float32Array[][] = seqs.map(() => []);
  let out = await lm.forward({
    batch: B,
    seq: P,
    inputIds: ids,
    attentionMask: mask.flat(),
    positionIds: pos,
    past: null,
  });
  seqs.forEach((_, b) => {
    const n = prefill[b] as number;
    for (let j = P - n; j < P; j++)
      (result[b] as Float32Array[]).push(out.logits.slice((b * P + j) * V, (b * P + j + 1) * V));
  });
  let past: KvCache = out.present;
  const steps = Math.max(...seqs.map((s, b) => s.length - (prefill[b] as number)));
  for (let k = 0; k < steps; k++) {
    const stepIds: number[] = [];
    const stepPos: number[] = [];
    seqs.forEach((s, b) => {
      const p = (prefill[b] as number) + k;
      const live = p < s.length;
      stepIds.push(live ? (s[p] as number) : 0);
      stepPos.push(p);
      (mask[b] as number[]).push(live ? 1 : 0);
    });
    out = await lm.forward({
      batch: B,
      seq: 1,
      inputIds: stepIds,
      attentionMask: mask.flat(),
      positionIds: stepPos,
      past,
    });
    past = out.present;
    seqs.forEach((s, b) => {
      if ((prefill[b] as number) + k < s.length)
        (result[b] as Float32Array[]).push(out.logits.slice(b * V, (b + 1) * V));
    });
  }
  return result;
}

/** What {@link engineLogits} saw: per sequence, the logits row of every step and the tokens it took. */
export interface EngineTrace {
  rows: Float32Array[][];
  tokens: number[][];
}

/**
 * Greedy generation of `prompts` together through `model`'s continuous-batching engine (ragged
 * rows, prompts prefilled in chunks of `maxPrefillTokens`), recording the logits row each step
 * sampled from: step 0 is the last prompt position, step i the i-th generated token's position.
 */
export async function engineLogits(
  model: LocalModel,
  prompts: readonly (readonly number[])[],
  maxTokens: number,
  maxPrefillTokens: number,
): Promise<EngineTrace> {
  const engine = model.createEngine(prompts.length);
  const scheduler = new IterationScheduler(engine, {
    maxRunningSequences: prompts.length,
    prefillChunkTokens: maxPrefillTokens,
    decodeStepsPerPrefill: 1,
  });
  const rows: Float32Array[][] = prompts.map(() => []);
  const seqs = prompts.map((p, i) => {
    const seq = SequenceState.create(
      model.info.tokenizer,
      { prompt: p, params: { max_tokens: maxTokens, temperature: 0 } },
      { ...model.generationDefaults, eosIds: [] },
      model.info.config.max_position_embeddings,
    );
    const accept = seq.accept.bind(seq);
    seq.accept = (row: Float32Array) => {
      (rows[i] as Float32Array[]).push(row.slice());
      return accept(row);
    };
    return seq;
  });
  try {
    await Promise.all(seqs.map((s, i) => scheduler.submit(i, s)));
  } finally {
    scheduler.close();
  }
  return { rows, tokens: seqs.map((s) => s.tokens) };
}

/**
 * Largest |engine − reference| over every recorded step of every sequence of a trace; the
 * reference runs over prompt ⧺ generated tokens.
 */
export function engineTraceDiff(
  make: () => ReferenceLlama,
  prompts: readonly (readonly number[])[],
  trace: EngineTrace,
): number {
  let worst = 0;
  prompts.forEach((p, b) => {
    const steps = trace.rows[b] as Float32Array[];
    const ref = referenceLogits(make, [...p, ...(trace.tokens[b] as number[])]);
    steps.forEach((row, i) => {
      worst = Math.max(worst, maxAbsDiff(row, ref[p.length - 1 + i] as Float32Array));
    });
  });
  return worst;
}

/**
 * Runs `check` on every engine for `dir`: the WASM engine, and the arena engine's graph choices —
 * the default (GQA graph while at most 8 sequences run), the wide graph only (`gqa_max_rows` 0), a
 * bound of 2 rows, which switches graphs (and the arena's value layout) while a batch of more
 * runs, and the GQA graph in forwards of at most 3 rows (`gqa_chunk_rows` 3: a batch of 4 runs as
 * forwards of 3 and 1).
 */
export async function forEachEngineGraph(
  dir: string,
  check: (model: LocalModel, label: string) => Promise<void>,
): Promise<void> {
  const choices: { label: string; engine: EngineMode; execution?: Partial<ExecutionSettings> }[] = [
    { label: 'wasm engine', engine: 'wasm' },
    { label: 'gqa_max_rows default', engine: 'arena' },
    { label: 'gqa_max_rows 0', engine: 'arena', execution: { gqa_max_rows: 0 } },
    { label: 'gqa_max_rows 2', engine: 'arena', execution: { gqa_max_rows: 2 } },
    { label: 'gqa_chunk_rows 3', engine: 'arena', execution: { gqa_chunk_rows: 3 } },
  ];
  for (const { label, engine, execution } of choices) {
    const model = await LocalModel.load(dir, {
      engine,
      execution: { ...DEFAULT_EXECUTION, ...execution },
      warmup: false,
    });
    try {
      assert.equal(model.engine, engine, label);
      await check(model, label);
    } finally {
      await model.close();
    }
  }
}
