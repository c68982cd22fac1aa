import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/graph-builder';
import { Prng } from '../forge/prng';
import { readFloatWeights } from './graph-weights';
import { int8PairsSaturate, narrowColumnCodes } from './narrow-codes';
import { COLUMN_CODE_MAX } from './quant-math';

const K = 96;
const N = 40;
const ROWS = 4;

/** A `DynamicQuantizeMatMul` graph with 8-bit codes (±127), as Hotpath wrote them before 7-bit ones. */
function eightBitModel(): { model: Buffer; weights: Float32Array } {
  const rng = new Prng(3);
  const w = Float32Array.from({ length: K * N }, () => rng.next() * 2 - 1);
  const scales = new Float32Array(N);
  const codes = new Int8Array(K * N);
  for (let n = 0; n < N; n++) {
    let max = 0;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(w[k * N + n] as number));
    scales[n] = Math.fround(max / 127);
    for (let k = 0; k < K; k++)
      codes[k * N + n] = Math.round((w[k * N + n] as number) / (scales[n] as number));
  }
  const b = new GraphBuilder('dq');
  const x = b.input('x', 'float32', [ROWS, K]);
  b.output('y', 'float32', [ROWS, N]);
  const c = b.initializer('proj.weight_t.qcodes', [K, N], codes);
  const s = b.initializer('proj.weight_t.qscales', [N], scales);
  const z = b.initializer('proj.weight_t.qzero', [N], new Int8Array(N));
  b.msNode('DynamicQuantizeMatMul', [x, c, s, z], {}, ['y']);
  const weights = Float32Array.from(codes, (q, i) => q * (scales[i % N] as number));
  return { model: b.toModelProto().toBuffer(), weights };
}

describe('narrowing int8-dynamic codes for CPUs whose int8 GEMM saturates', () => {
  it('knows which CPUs saturate: x86 without VNNI (or unknown), never other architectures', () => {
    assert.equal(int8PairsSaturate('x64', 'fpu sse2 avx2 fma'), true);
    assert.equal(int8PairsSaturate('x64', 'fpu avx2 avx512f avx512bw'), true);
    assert.equal(int8PairsSaturate('x64', 'fpu avx2 avx512f avx512_vnni'), false);
    assert.equal(int8PairsSaturate('x64', 'fpu avx2 avx_vnni'), false);
    assert.equal(int8PairsSaturate('x64', 'fpu amx_int8 amx_tile'), false);
    assert.equal(int8PairsSaturate('x64', null), true);
    assert.equal(int8PairsSaturate('arm64', null), false);
  });

  it('rewrites 8-bit codes as 7-bit codes of the same weights, which onnxruntime multiplies exactly', async () => {
    const { model, weights } = eightBitModel();
    const narrowed = narrowColumnCodes(model);
    assert.ok(narrowed);
    assert.equal(narrowed.weights, 1);
    const stored = readFloatWeights(narrowed.model).get('proj.weight_t');
    assert.ok(stored);
    // Each value moves by at most half a 7-bit step of its column.
    for (let n = 0; n < N; n++) {
      let max = 0;
      for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(weights[k * N + n] as number));
      for (let k = 0; k < K; k++) {
        const d = Math.abs((stored.data[k * N + n] as number) - (weights[k * N + n] as number));
        assert.ok(d <= (max / COLUMN_CODE_MAX) * 0.5 + 1e-6, `column ${n}: moved ${d}`);
      }
    }
    // Through onnxruntime on this host: within the activations' rounding of x · (stored weights).
    const rng = new Prng(9);
    const x = Float32Array.from({ length: ROWS * K }, () => rng.next());
    const s = await ort.InferenceSession.create(narrowed.model);
    try {
      const y = (await s.run({ x: new ort.Tensor('float32', x, [ROWS, K]) })).y?.data as Float32Array;
      let err = 0;
      let scale = 0;
      for (let r = 0; r < ROWS; r++)
        for (let n = 0; n < N; n++) {
          let want = 0;
          for (let k = 0; k < K; k++) want += (x[r * K + k] as number) * (stored.data[k * N + n] as number);
          scale = Math.max(scale, Math.abs(want));
          err = Math.max(err, Math.abs((y[r * N + n] as number) - want));
        }
      assert.ok(err / scale < 2e-2, `max relative error ${err / scale}`);
    } finally {
      await s.release();
    }
    assert.equal(narrowColumnCodes(narrowed.model), null, '7-bit codes are left alone');
  });
});
