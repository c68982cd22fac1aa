import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromFloat16, toFloat16 } from '../session/float16';
import { PrefixKvCache, prefixBlockHashes, type PrefixBlockKv } from './prefix-cache';
import { prefixPast, sliceBlockKv } from './prefix-kv';

/** A block whose every value is `fill` (1 layer, 1 head, dim 2 → 4 floats × bt per tensor). */
const block = (bt: number, fill = 0): PrefixBlockKv => ({
  layers: [{ key: new Float32Array(bt * 2).fill(fill), value: new Float32Array(bt * 2).fill(fill) }],
});
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('prefixBlockHashes', () => {
  it('hashes whole blocks only, chained: a block hash depends on every earlier token', () => {
    const a = prefixBlockHashes(range(0, 35), 16);
    assert.equal(a.length, 2, 'the trailing 3 tokens form no block');
    assert.deepEqual(prefixBlockHashes(range(0, 32), 16), a);
    const changedFirst = prefixBlockHashes([99, ...range(1, 34)], 16);
    assert.notEqual(changedFirst[0], a[0]);
    assert.notEqual(changedFirst[1], a[1], 'same second block, different parent');
    const changedSecond = prefixBlockHashes([...range(0, 20), 99, ...range(21, 14)], 16);
    assert.equal(changedSecond[0], a[0]);
    assert.notEqual(changedSecond[1], a[1]);
    assert.equal(prefixBlockHashes(range(0, 64), 16, 2).length, 2, 'maxBlocks caps the chain');
    assert.notEqual(prefixBlockHashes(range(0, 16), 8)[1], prefixBlockHashes(range(0, 16), 16)[0]);
    assert.throws(() => prefixBlockHashes([1], 0), RangeError);
  });
});

describe('PrefixKvCache', () => {
  it('finds the cached leading blocks, capped by maxTokens, and extracts only missing blocks', () => {
    const cache = new PrefixKvCache({ maxBytes: 1 << 20, blockTokens: 4 });
    const extracted: number[] = [];
    cache.insert(range(0, 10), (i) => (extracted.push(i), block(4, i)));
    assert.deepEqual(extracted, [0, 1]);
    assert.equal(cache.stats.blocks, 2);
    assert.equal(cache.peek(range(0, 12), 11), 8);
    assert.equal(cache.peek(range(0, 8), 7), 4, 'the last token is always computed');
    assert.equal(cache.peek([5, ...range(1, 11)], 11), 0);
    const hit = cache.lookup(range(0, 30), 29);
    assert.equal(hit.tokens, 8);
    assert.deepEqual(
      hit.blocks.map((b) => b.layers[0]?.key[0]),
      [0, 1],
    );
    extracted.length = 0;
    cache.insert(range(0, 13), (i) => (extracted.push(i), block(4, i)));
    assert.deepEqual(extracted, [2], 'blocks 0 and 1 were cached already');
  });

  it('stays within maxBytes, evicting least recently used chains leaf first', () => {
    const bt = 4;
    const bytes = bt * 2 * 4 * 2; // key + value of one block
    const cache = new PrefixKvCache({ maxBytes: 5 * bytes, blockTokens: bt });
    const a = range(0, 12); // 3 blocks
    const b = range(100, 8); // 2 blocks
    cache.insert(a, () => block(bt));
    cache.insert(b, () => block(bt));
    assert.equal(cache.stats.bytes, 5 * bytes);
    cache.lookup(a, 12); // a is now more recent than b
    const c = range(200, 8); // 2 more blocks: 2 must go, b's leaf first, then b's root
    cache.insert(c, () => block(bt));
    assert.ok(cache.stats.bytes <= 5 * bytes);
    assert.equal(cache.stats.evictions, 2);
    assert.equal(cache.peek(a, 12), 12);
    assert.equal(cache.peek(b, 8), 0);
    assert.equal(cache.peek(c, 8), 8);
    // A chain longer than the bound keeps its head: eviction takes its tail first.
    const long = range(300, 40); // 10 blocks
    cache.insert(long, () => block(bt));
    assert.ok(cache.stats.bytes <= 5 * bytes, `${cache.stats.bytes} bytes`);
    assert.equal(cache.peek(long, 40), 5 * bt);
    const tinyBound = new PrefixKvCache({ maxBytes: bytes - 1, blockTokens: bt });
    tinyBound.insert(a, () => block(bt));
    assert.equal(tinyBound.stats.blocks, 0, 'a block larger than the bound is never kept');
  });

  it('slices a row of a batch cache and rebuilds a left-padded past from blocks', () => {
    // 2 rows, 1 head, 6 positions, dim 1: value = row*100 + position.
    const data = Float32Array.from({ length: 12 }, (_, i) => Math.floor(i / 6) * 100 + (i % 6));
    const cache = [
      {
        key: { type: 'float32' as const, data, dims: [2, 1, 6, 1] },
        value: { type: 'float32' as const, data, dims: [2, 1, 6, 1] },
      },
    ];
    const s = sliceBlockKv(cache, 1, 2, 3);
    assert.deepEqual([...(s.layers[0]?.key ?? [])], [102, 103, 104]);
    const b0 = { layers: [{ key: Float32Array.of(1, 2), value: Float32Array.of(1, 2) }] };
    const b1 = { layers: [{ key: Float32Array.of(3, 4), value: Float32Array.of(3, 4) }] };
    const past = prefixPast(
      { num_hidden_layers: 1, num_key_value_heads: 1, head_dim: 1 },
      [
        { tokens: 4, blocks: [b0, b1] },
        { tokens: 2, blocks: [b0] },
      ],
      [3, 0],
      4,
    );
    assert.deepEqual(past[0]?.key.dims, [2, 1, 4, 1]);
    assert.deepEqual([...(past[0]?.key.data as Float32Array)], [0, 1, 2, 3, 0, 0, 0, 0]);
  });

  it('keeps a float16 cache in 2-byte elements through slicing and rebuilding', () => {
    const bits = toFloat16(Float32Array.from({ length: 12 }, (_, i) => Math.floor(i / 6) * 100 + (i % 6)));
    const t = { type: 'float16' as const, data: bits, dims: [2, 1, 6, 1] };
    const s = sliceBlockKv([{ key: t, value: t }], 1, 2, 3);
    const key = s.layers[0]?.key as Uint16Array;
    assert.ok(key instanceof Uint16Array);
    assert.equal(key.byteLength, 6, 'a block of 3 positions is 6 bytes per head and dim');
    assert.deepEqual([...fromFloat16(key)], [102, 103, 104]);
    const past = prefixPast(
      { num_hidden_layers: 1, num_key_value_heads: 1, head_dim: 1 },
      [{ tokens: 3, blocks: [s] }],
      [2],
      3,
      'float16',
    );
    assert.equal(past[0]?.value.type, 'float16');
    assert.deepEqual([...fromFloat16(past[0]?.value.data as Uint16Array)], [0, 102, 103]);
  });
});
