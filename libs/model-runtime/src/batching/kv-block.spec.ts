import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuntimeTensor } from '../session/ort-session';
import { assembleKv, blockLength, decodeMask, type KvBlock } from './kv-block';

/** A one-layer block with 1 head and head_dim 1 whose entry at (row, t) is `base + 10·row + t`. */
function block(lengths: number[], T: number, base: number): KvBlock {
  const tensor = (offset: number): RuntimeTensor => ({
    type: 'float32',
    data: Float32Array.from(
      { length: lengths.length * T },
      (_, i) => base + offset + 10 * Math.floor(i / T) + (i % T),
    ),
    dims: [lengths.length, 1, T, 1],
  });
  return { cache: [{ key: tensor(0), value: tensor(0.5) }], lengths };
}

describe('kv-block', () => {
  it('assembles rows of several blocks left-padded to the longest, copying only real entries', () => {
    const running = block([3, 1], 4, 100); // row 0: real t=1..3, row 1: real t=3
    const joined = block([2], 2, 200);
    const out = assembleKv([
      { block: running, row: 1 },
      { block: joined, row: 0 },
      { block: running, row: 0 },
    ]);
    assert.equal(blockLength(out), 3);
    assert.deepEqual(out.lengths, [1, 2, 3]);
    assert.deepEqual(out.cache[0]?.key.dims, [3, 1, 3, 1]);
    assert.deepEqual(
      Array.from((out.cache[0]?.key.data ?? []) as Float32Array),
      [0, 0, 113, 0, 200, 201, 101, 102, 103],
    );
    assert.deepEqual(
      Array.from((out.cache[0]?.value.data ?? []) as Float32Array),
      [0, 0, 113.5, 0, 200.5, 201.5, 101.5, 102.5, 103.5],
    );
  });

  it('builds the decode mask: padding 0, cached tokens and the fed token 1', () => {
    const mask = decodeMask(block([3, 1], 4, 0));
    assert.deepEqual(Array.from(mask, Number), [0, 1, 1, 1, 1, 0, 0, 0, 1, 1]);
  });
});
