import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromFloat16, toFloat16 } from '../session/float16';
import type { RuntimeTensor } from '../session/ort-session';
import { assembleKv, blockLength, decodeMask, type KvBlock, type KvElementType } from './kv-block';

/**
 * A one-layer block with 1 head and head_dim 1 whose entry at (row, t) is `base + 10·row + t`, in
 * float32 or as float16 bits (every value used here is exact in both).
 */
function block(lengths: number[], T: number, base: number, type: KvElementType = 'float32'): KvBlock {
  const tensor = (offset: number): RuntimeTensor => {
    const values = Float32Array.from(
      { length: lengths.length * T },
      (_, i) => base + offset + 10 * Math.floor(i / T) + (i % T),
    );
    return { type, data: type === 'float16' ? toFloat16(values) : values, dims: [lengths.length, 1, T, 1] };
  };
  return { cache: [{ key: tensor(0), value: tensor(0.5) }], lengths };
}

/** A KV tensor's values as numbers, whatever its element type. */
const valuesOf = (t: RuntimeTensor | undefined): number[] =>
  t?.type === 'float16'
    ? Array.from(fromFloat16(t.data as Uint16Array))
    : Array.from(t?.data as Float32Array);

describe('kv-block', () => {
  for (const type of ['float32', 'float16'] as const) {
    it(`assembles ${type} rows of several blocks left-padded to the longest, copying only real entries`, () => {
      const running = block([3, 1], 4, 100, type); // row 0: real t=1..3, row 1: real t=3
      const joined = block([2], 2, 200, type);
      const out = assembleKv([
        { block: running, row: 1 },
        { block: joined, row: 0 },
        { block: running, row: 0 },
      ]);
      assert.equal(blockLength(out), 3);
      assert.deepEqual(out.lengths, [1, 2, 3]);
      assert.deepEqual(out.cache[0]?.key.dims, [3, 1, 3, 1]);
      assert.equal(out.cache[0]?.key.type, type);
      assert.ok(out.cache[0]?.key.data instanceof (type === 'float16' ? Uint16Array : Float32Array));
      assert.deepEqual(valuesOf(out.cache[0]?.key), [0, 0, 113, 0, 200, 201, 101, 102, 103]);
      assert.deepEqual(valuesOf(out.cache[0]?.value), [0, 0, 113.5, 0, 200.5, 201.5, 101.5, 102.5, 103.5]);
    });
  }

  it('builds the decode mask: padding 0, cached tokens and the fed token 1', () => {
    const mask = decodeMask(block([3, 1], 4, 0));
    assert.deepEqual(Array.from(mask, Number), [0, 1, 1, 1, 1, 0, 0, 0, 1, 1]);
  });
});
