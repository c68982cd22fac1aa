import type { RuntimeTensor } from '../session/ort-session';
import { kvData, kvElementType, type KvCache, type KvData, type KvElementType } from './kv-block';
import type { PrefixBlockKv, PrefixHit } from './prefix-cache';

/** The KV shape the copies need. */
export interface KvShape {
  num_hidden_layers: number;
  num_key_value_heads: number;
  head_dim: number;
}

/**
 * Copies positions `[start, start + blockTokens)` of one row of a `[rows, heads, length, dim]`
 * cache into a standalone block (per layer `[heads, blockTokens, dim]`).
 */
export function sliceBlockKv(cache: KvCache, row: number, start: number, blockTokens: number): PrefixBlockKv {
  return {
    layers: cache.map((l) => ({
      key: sliceRow(l.key, row, start, blockTokens),
      value: sliceRow(l.value, row, start, blockTokens),
    })),
  };
}

function sliceRow(t: RuntimeTensor, row: number, start: number, n: number): KvData {
  const [, H, T, D] = t.dims as [number, number, number, number];
  const src = t.data as KvData;
  const out = kvData(kvElementType(t), H * n * D);
  for (let h = 0; h < H; h++) {
    const from = ((row * H + h) * T + start) * D;
    out.set(src.subarray(from, from + n * D), h * n * D);
  }
  return out;
}

/**
 * The left-padded `past` of a prefill group: row `b` holds the KV of its first `used[b]` prompt
 * tokens (taken from `hits[b]`'s blocks) in its last `used[b]` of `length` positions; padding is
 * zero and hidden by the attention mask. `type` is the cache's element type (the blocks' own).
 */
export function prefixPast(
  shape: KvShape,
  hits: readonly PrefixHit[],
  used: readonly number[],
  length: number,
  type: KvElementType = 'float32',
): KvCache {
  const B = hits.length;
  const H = shape.num_key_value_heads;
  const D = shape.head_dim;
  const build = (layer: number, pick: 'key' | 'value'): RuntimeTensor => {
    const data = kvData(type, B * H * length * D);
    hits.forEach((hit, b) => {
      const c = used[b] as number;
      let done = 0;
      for (const block of hit.blocks) {
        if (done >= c) break;
        const src = block.layers[layer]?.[pick] as KvData;
        const bt = src.length / (H * D);
        const n = Math.min(bt, c - done);
        for (let h = 0; h < H; h++) {
          const to = ((b * H + h) * length + (length - c) + done) * D;
          data.set(src.subarray(h * bt * D, h * bt * D + n * D), to);
        }
        done += n;
      }
    });
    return { type, data, dims: [B, H, length, D] };
  };
  return Array.from({ length: shape.num_hidden_layers }, (_, l) => ({
    key: build(l, 'key'),
    value: build(l, 'value'),
  }));
}
