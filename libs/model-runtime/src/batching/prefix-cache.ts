import { createHash } from 'node:crypto';
import type { KvData } from './kv-block';

/** Knobs of a {@link PrefixKvCache} (`prefix_cache` of a model in the cluster config). */
export interface PrefixCacheSettings {
  /** Upper bound of the cached KV slices of one replica, in bytes (2 per value for a float16 cache). */
  maxBytes: number;
  /** Tokens per cached block; only whole blocks are cached and reused. */
  blockTokens: number;
}

/**
 * The KV of one block of prompt tokens: per layer, key and value of shape
 * `[kv_heads, blockTokens, head_dim]` (row-major), copied out of a forward's `present` tensors in
 * their element type (float32, or float16 bits for a float16 cache).
 */
export interface PrefixBlockKv {
  layers: { key: KvData; value: KvData }[];
}

/** What a lookup found: the leading blocks of a prompt that are cached, in order. */
export interface PrefixHit {
  /** Tokens covered by `blocks` (`blocks.length × blockTokens`). */
  tokens: number;
  blocks: PrefixBlockKv[];
}

/** Counters of a cache, for tests and logs. */
export interface PrefixCacheStats {
  blocks: number;
  bytes: number;
  evictions: number;
}

const ROOT = 'hp-prefix-v1';

/**
 * The chained hashes of the whole blocks of `tokens`: block `i`'s hash covers its parent's hash and
 * its own ids, so equal hashes mean equal prefixes up to and including that block (as in vLLM's
 * automatic prefix caching). A trailing partial block gets no hash.
 */
export function prefixBlockHashes(
  tokens: readonly number[],
  blockTokens: number,
  maxBlocks = Infinity,
): string[] {
  if (!Number.isInteger(blockTokens) || blockTokens < 1) throw new RangeError('blockTokens must be ≥ 1');
  const n = Math.min(Math.floor(tokens.length / blockTokens), maxBlocks);
  const out: string[] = [];
  let parent = ROOT;
  for (let i = 0; i < n; i++) {
    const ids = Int32Array.from(tokens.slice(i * blockTokens, (i + 1) * blockTokens));
    parent = createHash('sha256')
      .update(parent)
      .update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength))
      .digest('base64');
    out.push(parent);
  }
  return out;
}

function blockBytes(kv: PrefixBlockKv): number {
  return kv.layers.reduce((n, l) => n + l.key.byteLength + l.value.byteLength, 0);
}

/**
 * Per-replica cache of prompt-prefix KV state, block by block, bounded by bytes with LRU eviction.
 * A prompt's leading blocks are found by their chained hashes; the engine prefills only the tokens
 * after the cached ones. Lookups and inserts mark a chain used from its last block to its first, so
 * the first block of a chain is the most recent and eviction takes leaves before the blocks they
 * hang off (a block whose parent is gone could never be found again).
 */
export class PrefixKvCache {
  /** Insertion order = recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, { kv: PrefixBlockKv; bytes: number }>();
  private bytesUsed = 0;
  private evicted = 0;

  constructor(readonly settings: PrefixCacheSettings) {
    if (!Number.isInteger(settings.blockTokens) || settings.blockTokens < 1)
      throw new RangeError('prefix cache blockTokens must be a positive integer');
    if (!(settings.maxBytes >= 0)) throw new RangeError('prefix cache maxBytes must be ≥ 0');
  }

  get blockTokens(): number {
    return this.settings.blockTokens;
  }

  get stats(): PrefixCacheStats {
    return { blocks: this.entries.size, bytes: this.bytesUsed, evictions: this.evicted };
  }

  /**
   * Cached leading tokens of `tokens`, at most `maxTokens` (whole blocks only), without touching
   * recency: the scheduler's prefill budget asks before it decides.
   */
  peek(tokens: readonly number[], maxTokens: number): number {
    const bt = this.settings.blockTokens;
    let n = 0;
    for (const h of prefixBlockHashes(tokens, bt, Math.floor(maxTokens / bt))) {
      if (!this.entries.has(h)) break;
      n += bt;
    }
    return n;
  }

  /** The cached leading blocks of `tokens` (covering at most `maxTokens` tokens); marks them used. */
  lookup(tokens: readonly number[], maxTokens: number): PrefixHit {
    const bt = this.settings.blockTokens;
    const hashes = prefixBlockHashes(tokens, bt, Math.floor(maxTokens / bt));
    const blocks: PrefixBlockKv[] = [];
    for (const h of hashes) {
      const e = this.entries.get(h);
      if (!e) break;
      blocks.push(e.kv);
    }
    this.touch(hashes.slice(0, blocks.length));
    return { tokens: blocks.length * bt, blocks };
  }

  /**
   * Caches the whole blocks of `tokens` not cached yet; `extract(i)` copies block `i`'s KV (called
   * only for missing blocks). Evicts least recently used blocks until the bound holds again.
   */
  insert(tokens: readonly number[], extract: (block: number) => PrefixBlockKv): void {
    const hashes = prefixBlockHashes(tokens, this.settings.blockTokens);
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i] as string;
      if (this.entries.has(h)) continue;
      const kv = extract(i);
      const bytes = blockBytes(kv);
      // A block that alone exceeds the bound, and everything after it, cannot be kept.
      if (bytes > this.settings.maxBytes) break;
      this.entries.set(h, { kv, bytes });
      this.bytesUsed += bytes;
    }
    this.touch(hashes.filter((h) => this.entries.has(h)));
    this.evict();
  }

  /** Drops every block. */
  clear(): void {
    this.entries.clear();
    this.bytesUsed = 0;
  }

  private touch(chain: readonly string[]): void {
    for (let i = chain.length - 1; i >= 0; i--) {
      const h = chain[i] as string;
      const e = this.entries.get(h);
      if (!e) continue;
      this.entries.delete(h);
      this.entries.set(h, e);
    }
  }

  private evict(): void {
    for (const [h, e] of this.entries) {
      if (this.bytesUsed <= this.settings.maxBytes) break;
      this.entries.delete(h);
      this.bytesUsed -= e.bytes;
      this.evicted++;
    }
  }
}
