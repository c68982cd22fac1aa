import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/graph-builder';
import { Prng } from '../forge/prng';
import { readFloatWeights, readQuantSpec } from './graph-weights';
import { COLUMN_CODE_MAX, quantizeColumns } from './quant-math';
import { quantizeOnnxGraph, type QuantMethod, type QuantSpec } from './quantize-graph';

const ROWS = 3;

/** y = x·W for a `[K, N]` weight, as an ONNX graph with W an initializer. */
function matmulModel(w: Float32Array, K: number, N: number): Buffer {
  const b = new GraphBuilder('matmul');
  const x = b.input('x', 'float32', [ROWS, K]);
  b.output('y', 'float32', [ROWS, N]);
  b.op('MatMul', [x, b.initializer('proj.weight_t', [K, N], w)], {}, 'y');
  return b.toModelProto().toBuffer();
}

function randoms(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Prng(seed);
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

function matmul(x: Float32Array, w: Float32Array, K: number, N: number): Float64Array {
  const y = new Float64Array(ROWS * N);
  for (let r = 0; r < ROWS; r++)
    for (let k = 0; k < K; k++)
      for (let n = 0; n < N; n++)
        y[r * N + n] = (y[r * N + n] as number) + (x[r * K + k] as number) * (w[k * N + n] as number);
  return y;
}

async function run(model: Buffer, x: Float32Array, K: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model);
  try {
    const out = await s.run({ x: new ort.Tensor('float32', x, [ROWS, K]) });
    return out.y?.data as Float32Array;
  } finally {
    await s.release();
  }
}

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i] as number));
    err = Math.max(err, Math.abs((got[i] as number) - (want[i] as number)));
  }
  return err / scale;
}

const spec = (method: QuantMethod, accuracy_level: 0 | 4 = 0): QuantSpec => ({
  method,
  block_size: 32,
  accuracy_level,
  keep_float: [],
});

describe('quantizeOnnxGraph through onnxruntime', () => {
  // K = 80: two full blocks of 32 and a ragged one, N = 24 columns.
  const K = 80;
  const N = 24;
  const w = randoms(K * N, 7, 0.5);
  const x = randoms(ROWS * K, 11);
  const model = matmulModel(w, K, N);

  for (const [method, acc, tolerance] of [
    ['int8-weight', 0, 1e-5],
    ['int4-weight', 0, 1e-5],
    ['fp16', 0, 1e-5],
    // Activations quantized to int8 at run time: the error is the activations' rounding.
    ['int8-weight', 4, 2e-2],
    ['int4-weight', 4, 2e-2],
    ['int8-dynamic', 0, 2e-2],
  ] as const) {
    it(`${method} (accuracy level ${acc}) multiplies by exactly the weights it stores`, async () => {
      const q = quantizeOnnxGraph(model, spec(method, acc));
      assert.deepEqual(q.quantized, ['proj.weight_t']);
      assert.ok(q.bytesAfter < q.bytesBefore, `${q.bytesAfter} < ${q.bytesBefore}`);
      const stored = readFloatWeights(q.model).get('proj.weight_t');
      assert.ok(stored, 'the dequantized weight reads back under its own name');
      assert.deepEqual(stored.dims, [K, N]);
      const err = maxRelError(await run(q.model, x, K), matmul(x, stored.data, K, N));
      assert.ok(err <= tolerance, `max relative error ${err} > ${tolerance}`);
      // And the stored weights are close to the originals (the quantization error itself; int4's
      // worst case is a value of the opposite sign to its block's largest, clamped at code +7).
      const wErr = maxRelError(stored.data, w);
      assert.ok(wErr < (method === 'int4-weight' ? 0.13 : 0.01), `weight error ${wErr}`);
      assert.deepEqual(readQuantSpec(q.model), spec(method, acc));
    });
  }

  it('int8-dynamic codes stay within ±63, so no pair of products saturates a non-VNNI int8 GEMM', () => {
    const q = quantizeColumns(w, K, N);
    assert.equal(Math.max(...Array.from(q.codes, Math.abs)), COLUMN_CODE_MAX);
    assert.equal(COLUMN_CODE_MAX * 255 * 2 <= 32_767, true);
  });

  it('quantizing dequantized weights again gives back the same codes (the engine relies on it)', () => {
    for (const method of ['int8-weight', 'int4-weight', 'int8-dynamic'] as const) {
      const once = quantizeOnnxGraph(model, spec(method));
      const again = quantizeOnnxGraph(
        matmulModel(readFloatWeights(once.model).get('proj.weight_t')!.data, K, N),
        spec(method),
      );
      const a = readFloatWeights(once.model).get('proj.weight_t')!.data;
      const b = readFloatWeights(again.model).get('proj.weight_t')!.data;
      assert.ok(maxRelError(b, a) < 1e-6, `${method}: ${maxRelError(b, a)}`);
    }
  });

  it('keeps named weights float and leaves graphs without MatMul weights alone', () => {
    const kept = quantizeOnnxGraph(model, { ...spec('int8-weight'), keep_float: ['proj'] });
    assert.deepEqual(kept.quantized, []);
    assert.deepEqual(kept.keptFloat, ['proj.weight_t']);
    assert.throws(() => quantizeOnnxGraph(model, { ...spec('int4-weight'), block_size: 48 }), /power of two/);
  });
});
