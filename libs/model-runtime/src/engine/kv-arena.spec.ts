import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adjacentRuns } from './arena-engine';
import { KvArena } from './kv-arena';

const H = 2;
const D = 3;

/** New rows `[rows, H, S, D]` whose every value encodes (tag, head, token, dim). */
function rowsOf(tags: readonly number[], S: number): { key: Float32Array; value: Float32Array } {
  const key = new Float32Array(tags.length * H * S * D);
  const value = new Float32Array(key.length);
  tags.forEach((tag, r) => {
    for (let h = 0; h < H; h++)
      for (let s = 0; s < S; s++)
        for (let d = 0; d < D; d++) {
          const i = ((r * H + h) * S + s) * D + d;
          key[i] = tag * 1000 + h * 100 + s * 10 + d;
          value[i] = -(tag * 1000 + h * 100 + s * 10 + d);
        }
  });
  return { key, value };
}

/** Reads position `pos` of `slot` back (both layers must agree) as [key, value] per head and dim. */
function readBack(a: KvArena, slot: number, pos: number): { key: number[]; value: number[] } {
  const out = { key: [] as number[], value: [] as number[] };
  for (let l = 0; l < a.layers; l++) {
    const v = a.view(l, 0, a.used);
    const M = a.capacity;
    const key: number[] = [];
    const value: number[] = [];
    for (let h = 0; h < H; h++)
      for (let d = 0; d < D; d++) {
        key.push(v.key[((slot * H + h) * M + pos) * D + d] as number);
        value.push(v.value[((slot * H + h) * M + pos) * D + d] as number);
      }
    if (l === 0) Object.assign(out, { key, value });
    else assert.deepEqual({ key, value }, out, `layer ${l} differs from layer 0`);
  }
  return out;
}

function expected(tag: number, s: number): { key: number[]; value: number[] } {
  const key: number[] = [];
  for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) key.push(tag * 1000 + h * 100 + s * 10 + d);
  return { key, value: key.map((x) => -x) };
}

function append(a: KvArena, first: number, tags: readonly number[], counts: readonly number[]): void {
  const S = Math.max(...counts);
  const { key, value } = rowsOf(tags, S);
  a.reserve(Math.max(...tags.map((_, r) => (a.lengths[first + r] as number) + (counts[r] as number))));
  for (let l = 0; l < a.layers; l++) a.write(l, first, S, counts, key, value);
  a.advance(first, counts);
}

/** The same rows as {@link rowsOf}, laid out `[rows, S, H, D]` (the GQA graph's `new_kv`). */
function tokensFirst(rows: Float32Array, n: number, S: number): Float32Array {
  const out = new Float32Array(rows.length);
  for (let r = 0; r < n; r++)
    for (let h = 0; h < H; h++)
      for (let s = 0; s < S; s++)
        for (let d = 0; d < D; d++)
          out[((r * S + s) * H + h) * D + d] = rows[((r * H + h) * S + s) * D + d] as number;
  return out;
}

describe('KvArena', () => {
  const arena = (slots = 4, maxPositions = 64, chunk = 4): KvArena =>
    new KvArena({ layers: 2, kvHeads: H, headDim: D, slots, maxPositions, chunk });

  it('appends ragged rows in place at each slot’s own position', () => {
    const a = arena();
    const [s0, s1] = [a.allocate(), a.allocate()];
    assert.deepEqual([s0, s1], [0, 1]);
    append(a, 0, [1, 2], [3, 1]);
    assert.deepEqual(Array.from(a.lengths.subarray(0, 2)), [3, 1]);
    for (let p = 0; p < 3; p++) assert.deepEqual(readBack(a, 0, p), expected(1, p));
    assert.deepEqual(readBack(a, 1, 0), expected(2, 0));
    // A decode step: one token each, at positions 3 and 1.
    append(a, 0, [5, 6], [1, 1]);
    assert.deepEqual(readBack(a, 0, 3), expected(5, 0));
    assert.deepEqual(readBack(a, 1, 1), expected(6, 0));
    // Rows that only ride along (count 0) are not written.
    append(a, 0, [7, 8], [0, 1]);
    assert.deepEqual(Array.from(a.lengths.subarray(0, 2)), [4, 3]);
  });

  it('copies a slot into another arena of another width (a move between lanes)', () => {
    const narrow = arena(2, 64, 4);
    const wide = arena(2, 64, 4);
    narrow.allocate();
    append(narrow, 0, [1], [3]);
    wide.allocate();
    append(wide, 0, [2], [9]);
    assert.notEqual(narrow.capacity, wide.capacity);
    // Into the wide arena's second slot, then back into a fresh narrow one that must grow.
    const to = wide.allocate();
    narrow.copySlotTo(0, wide, to);
    assert.equal(wide.lengths[to], 3);
    for (let p = 0; p < 3; p++) assert.deepEqual(readBack(wide, to, p), expected(1, p));
    for (let p = 0; p < 9; p++)
      assert.deepEqual(readBack(wide, 0, p), expected(2, p), 'the other row is intact');
    const back = arena(1, 64, 4);
    back.allocate();
    wide.copySlotTo(0, back, 0);
    assert.equal(back.capacity, 12);
    for (let p = 0; p < 9; p++) assert.deepEqual(readBack(back, 0, p), expected(2, p));
    assert.throws(() => narrow.copySlotTo(1, wide, 0), /not in use/);
  });

  it('grows capacity in chunks and keeps every valid row across the re-layout', () => {
    const a = arena(2, 64, 4);
    a.allocate();
    a.allocate();
    assert.equal(a.capacity, 4);
    append(a, 0, [1, 2], [4, 2]);
    const before = a.relayoutCount;
    append(a, 0, [3, 4], [3, 1]);
    assert.equal(a.capacity, 8);
    assert.equal(a.relayoutCount, before + 1);
    for (let p = 0; p < 4; p++) assert.deepEqual(readBack(a, 0, p), expected(1, p));
    for (let p = 0; p < 3; p++) assert.deepEqual(readBack(a, 0, 4 + p), expected(3, p));
    assert.deepEqual(readBack(a, 1, 2), expected(4, 0));
  });

  it('release moves the last slot into the hole; slots are reused; capacity shrinks with hysteresis', () => {
    const a = arena(3, 64, 4);
    for (let i = 0; i < 3; i++) a.allocate();
    append(a, 0, [1, 2, 3], [2, 13, 5]);
    assert.equal(a.capacity, 16);
    assert.equal(a.release(0), 2, 'slot 2 moved into slot 0');
    assert.equal(a.used, 2);
    assert.deepEqual(Array.from(a.lengths.subarray(0, 2)), [5, 13]);
    for (let p = 0; p < 5; p++) assert.deepEqual(readBack(a, 0, p), expected(3, p));
    assert.equal(a.release(1), -1, 'the last slot leaves without a move');
    // Longest is now 5 tokens: 16 → 8 positions (two chunks or more smaller).
    assert.equal(a.capacity, 8);
    for (let p = 0; p < 5; p++) assert.deepEqual(readBack(a, 0, p), expected(3, p));
    assert.equal(a.allocate(), 1, 'freed slots are reused');
    assert.equal(a.lengths[1], 0);
  });

  it('capacity exhausted is a clear capacity error, never a silent overwrite', () => {
    const a = arena(2, 8, 4);
    a.allocate();
    a.allocate();
    assert.throws(() => a.allocate(), { code: 'capacity' });
    assert.throws(() => a.reserve(9), { code: 'capacity' });
    append(a, 0, [1, 2], [8, 8]);
    const { key, value } = rowsOf([9, 9], 1);
    assert.throws(() => a.write(0, 0, 1, [1, 1], key, value), RangeError);
    assert.throws(() => a.release(5), RangeError);
  });

  it('fill and extract round-trip prefix blocks', () => {
    const a = arena(2, 64, 4);
    a.allocate();
    append(a, 0, [4], [6]);
    const block = a.extract(1, 0, 2, 3);
    const b = a.allocate();
    a.reserve(3);
    for (let l = 0; l < a.layers; l++) a.fill(l, b, 0, 3, block.key, block.value);
    a.lengths[b] = 3;
    for (let p = 0; p < 3; p++) assert.deepEqual(readBack(a, b, p), expected(4, p + 2));
  });

  it('takes new rows laid out tokens-first (the GQA graph) exactly like heads-first ones', () => {
    const a = arena();
    a.allocate();
    a.allocate();
    const { key, value } = rowsOf([1, 2], 3);
    a.reserve(3);
    for (let l = 0; l < a.layers; l++)
      a.write(l, 0, 3, [3, 2], tokensFirst(key, 2, 3), tokensFirst(value, 2, 3), 'tokens-first');
    a.advance(0, [3, 2]);
    for (let p = 0; p < 3; p++) assert.deepEqual(readBack(a, 0, p), expected(1, p));
    for (let p = 0; p < 2; p++) assert.deepEqual(readBack(a, 1, p), expected(2, p));
  });
});

describe('adjacentRuns', () => {
  it('groups consecutive slots, in order', () => {
    assert.deepEqual(adjacentRuns([3, 1, 2, 7, 5, 6]), [
      [1, 2, 3],
      [5, 6, 7],
    ]);
    assert.deepEqual(adjacentRuns([]), []);
    assert.deepEqual(adjacentRuns([4]), [[4]]);
  });
});
