import type { RuntimeTensor } from '../session/ort-session';

/** Per-layer KV cache tensors, `[batch, kv_heads, length, head_dim]` each. */
export type KvCache = { key: RuntimeTensor; value: RuntimeTensor }[];

/** Element type of a KV cache: what the graph's `past_key_values.*` inputs declare. */
export type KvElementType = 'float32' | 'float16';

/** A KV tensor's elements: float32 values, or IEEE half bit patterns for a float16 cache. */
export type KvData = Float32Array | Uint16Array;

/** Zeroed KV storage of `length` elements of `type` (2 bytes each for float16). */
export function kvData(type: KvElementType, length: number): KvData {
  return type === 'float16' ? new Uint16Array(length) : new Float32Array(length);
}

/** The element type of a KV tensor coming out of (or going into) a session. */
export function kvElementType(t: RuntimeTensor): KvElementType {
  if (t.type === 'float32' || t.type === 'float16') return t.type;
  throw new TypeError(`a KV tensor must be float32 or float16, got ${t.type}`);
}

/**
 * KV caches of several sequences in one batch, left-padded: every layer tensor is
 * `[rows, kv_heads, length, head_dim]` and row `b`'s real entries are its last `lengths[b]`
 * positions (the rest is padding that the attention mask hides).
 */
export interface KvBlock {
  cache: KvCache;
  lengths: number[];
}

/** One row of a block. */
export interface KvRowRef {
  block: KvBlock;
  row: number;
}

/** Cache positions of a block (the padded length every row shares). */
export function blockLength(block: KvBlock): number {
  return block.cache[0]?.key.dims[2] ?? 0;
}

/**
 * A new left-padded block holding the given rows in order, as long as its longest row. Only the
 * real entries are copied (one contiguous run per row, head and layer), in the cache's own element
 * type (float32 or float16 bits); padding stays zero. Used only when batch membership changes, so
 * a steady batch never pays for a copy.
 */
export function assembleKv(rows: readonly KvRowRef[]): KvBlock {
  const first = rows[0];
  if (!first) throw new RangeError('assembleKv needs at least one row');
  const lengths = rows.map((r) => r.block.lengths[r.row] as number);
  const total = Math.max(...lengths);
  const [, heads, , headDim] = first.block.cache[0]?.key.dims ?? [];
  const H = heads as number;
  const D = headDim as number;
  const type = kvElementType(first.block.cache[0]?.key as RuntimeTensor);
  const copy = (pick: (layer: { key: RuntimeTensor; value: RuntimeTensor }) => RuntimeTensor, l: number) => {
    const data = kvData(type, rows.length * H * total * D);
    rows.forEach((ref, b) => {
      const src = pick(ref.block.cache[l] as { key: RuntimeTensor; value: RuntimeTensor });
      const srcData = src.data as KvData;
      const T = src.dims[2] as number;
      const len = lengths[b] as number;
      for (let h = 0; h < H; h++) {
        const from = ((ref.row * H + h) * T + (T - len)) * D;
        const to = ((b * H + h) * total + (total - len)) * D;
        data.set(srcData.subarray(from, from + len * D), to);
      }
    });
    return { type, data, dims: [rows.length, H, total, D] } satisfies RuntimeTensor;
  };
  const cache: KvCache = first.block.cache.map((_, l) => ({
    key: copy((x) => x.key, l),
    value: copy((x) => x.value, l),
  }));
  return { cache, lengths };
}

/**
 * The `[rows, length + 1]` attention mask of a decode step over `block`: each row's padding is 0,
 * its cached tokens and the token being fed are 1.
 */
export function decodeMask(block: KvBlock): BigInt64Array {
  const T = blockLength(block);
  const mask = new BigInt64Array(block.lengths.length * (T + 1));
  block.lengths.forEach((len, b) => mask.fill(1n, b * (T + 1) + (T - len), (b + 1) * (T + 1)));
  return mask;
}
