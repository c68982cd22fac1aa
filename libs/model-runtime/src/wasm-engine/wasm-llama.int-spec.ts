import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@hotpath/contracts';
import { engineWeightsFromOnnx, type EngineWeights } from '../engine/engine-weights';
import { forgeLlamaWeights } from '../forge/forge';
import { buildLlamaGraph } from '../onnx/llama-graph';
import { maxAbsDiff, referenceLogits } from '../testing/parity';
import { ReferenceLlama } from '../testing/reference-llama';
import { WasmLlama } from './wasm-llama';

// The WASM kernels against the plain reference pass, on a shape that takes every kernel path the
// forged and imported models do not: head size 12 (a 4-float tail after 8-float blocks), three query
// heads per KV head (a pair and a lone head), an FFN width and a vocabulary that need padding to 8
// columns, an untied classifier, and token counts that are not multiples of 4.

const SHAPE = {
  arch: 'llama',
  hidden: 72,
  intermediate: 90,
  layers: 2,
  heads: 6,
  kvHeads: 2,
  vocab: 500,
  maxPositions: 64,
  tied: false,
} as const;

function forged(): {
  llama: (slots: number, maxTokens: number) => WasmLlama;
  reference: () => ReferenceLlama;
} {
  const { config, weights } = forgeLlamaWeights(SHAPE, 11);
  const onnx = Buffer.concat(buildLlamaGraph(config, weights).parts());
  const engineWeights = engineWeightsFromOnnx(onnx, config);
  return {
    llama: (slots, maxTokens) => new WasmLlama(config, engineWeights, slots, maxTokens),
    reference: () => ReferenceLlama.forConfig(config, weights, SHAPE.maxPositions),
  };
}

describe('WasmLlama kernels', () => {
  const { llama, reference } = forged();
  const seqs = [[5, 17, 300, 42, 8, 99, 250], [7], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]];
  const refs = seqs.map((s) => referenceLogits(reference, s));
  const V = SHAPE.vocab;

  /** Runs `items` ([sequence, position]) as one forward, logits at every item, checked. */
  const check = (m: WasmLlama, items: readonly [number, number][], label: string): void => {
    const logits = m.forward(
      items.length,
      items.map(([s, p]) => seqs[s]?.[p] as number),
      items.map(([, p]) => p),
      items.map(([s]) => s),
      items.map((_, i) => i),
    );
    items.forEach(([s, p], i) => {
      const row = logits.subarray(i * m.vocabStride, i * m.vocabStride + V);
      const d = maxAbsDiff(row, refs[s]?.[p] as Float32Array);
      assert.ok(d <= 1e-4, `${label}: sequence ${s} position ${p}: max abs diff ${d}`);
    });
  };
  const range = (s: number, from: number, to: number): [number, number][] =>
    Array.from({ length: to - from }, (_, i) => [s, from + i]);

  it('match the reference over a ragged flat batch: prompts of 5, 1 and 9 tokens, then mixed steps', () => {
    const m = llama(3, 32);
    check(m, [...range(0, 0, 5), ...range(1, 0, 1), ...range(2, 0, 9)], 'prefill');
    // A decode token of one sequence beside two prompt tokens of another, in one forward.
    check(
      m,
      [
        [0, 5],
        [2, 9],
        [2, 10],
      ],
      'mixed',
    );
    check(m, [[0, 6]], 'one row');
  });

  it('run a long prompt over several forwards, as the engine chunks it', () => {
    const m = llama(1, 4);
    for (let at = 0; at < 11; at += 4) check(m, range(2, at, Math.min(11, at + 4)), `chunk at ${at}`);
  });

  it('refuse more tokens than a forward takes and positions beyond the context', () => {
    const m = llama(1, 4);
    assert.throws(() => m.forward(5, [1, 1, 1, 1, 1], [0, 1, 2, 3, 4], [0, 0, 0, 0, 0], [4]), RangeError);
    assert.throws(() => m.forward(1, [1], [SHAPE.maxPositions], [0], [0]), /beyond the model's context/);
  });

  it('refuse, with a capacity error, a plan beyond the 4 GiB of WebAssembly memory before allocating it', () => {
    const { config } = forgeLlamaWeights({ ...SHAPE, maxPositions: 65_536 }, 1);
    const weights = { layers: Array.from({ length: SHAPE.layers }, () => ({})) } as unknown as EngineWeights;
    // A slot: 2 layers × keys and values × 2 KV heads × 65 536 positions × head size 12 × 4 bytes =
    // 12 MiB; 400 of them are 4.7 GiB.
    assert.throws(() => new WasmLlama(config, weights, 400, 4096), {
      code: ErrorCode.Capacity,
      message: /WebAssembly memory holds 4 GiB/,
    });
  });

  it('keep each slot apart: the same prompt in two slots gives the same logits', () => {
    const m = llama(2, 32);
    const s = seqs[0] as number[];
    const a = m
      .forward(
        s.length,
        s,
        s.map((_, i) => i),
        s.map(() => 0),
        [s.length - 1],
      )
      .slice(0, V);
    const b = m
      .forward(
        s.length,
        s,
        s.map((_, i) => i),
        s.map(() => 1),
        [s.length - 1],
      )
      .slice(0, V);
    assert.deepEqual(b, a);
  });
});
