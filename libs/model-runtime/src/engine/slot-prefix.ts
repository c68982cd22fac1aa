import type { PrefixHit, PrefixKvCache } from '../batching/prefix-cache';

/** Copies one layer's `[kvHeads, n, headDim]` key/value blocks into a sequence's slot at `at`. */
export type SlotFill = (layer: number, at: number, n: number, key: Float32Array, value: Float32Array) => void;

/**
 * Copies a prefix-cache hit's blocks, in order, into a sequence's slot through `fill`; returns the
 * positions filled. `kvWidth` is kvHeads × headDim (a block's floats per position and layer).
 */
export function fillFromPrefix(hit: PrefixHit, kvWidth: number, fill: SlotFill): number {
  let at = 0;
  for (const block of hit.blocks) {
    const n = (block.layers[0]?.key.length ?? 0) / kvWidth;
    // The slot engines serve float32 caches only, so their own cached blocks are float32.
    block.layers.forEach((l, layer) => fill(layer, at, n, l.key as Float32Array, l.value as Float32Array));
    at += n;
  }
  return at;
}

/** Stores a prefilled prompt's whole blocks, read out of its slot with `extract`, in the cache. */
export function storePromptBlocks(
  cache: PrefixKvCache,
  prompt: readonly number[],
  layers: number,
  extract: (layer: number, start: number, n: number) => { key: Float32Array; value: Float32Array },
): void {
  const bt = cache.blockTokens;
  cache.insert(prompt, (i) => ({
    layers: Array.from({ length: layers }, (_, layer) => extract(layer, i * bt, bt)),
  }));
}
