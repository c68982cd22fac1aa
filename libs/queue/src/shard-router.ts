import { createHash } from 'node:crypto';

/**
 * Jump consistent hash (Lamping & Veach, 2014): maps a 64-bit key to one of `buckets` shards so that
 * growing from n to n+1 shards moves only ~1/(n+1) of the keys, and no key moves between old shards.
 */
export function jumpConsistentHash(key: bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1)
    throw new RangeError(`buckets must be a positive integer, got ${buckets}`);
  const mask = (1n << 64n) - 1n;
  let k = key & mask;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & mask;
    j = Math.floor(((b + 1) * Number(1n << 31n)) / Number((k >> 33n) + 1n));
  }
  return b;
}

/** First 8 bytes of SHA-256 as an unsigned 64-bit integer: stable across processes and versions. */
export function hash64(text: string): bigint {
  return createHash('sha256').update(text).digest().readBigUInt64BE(0);
}

/** What a job's shard is chosen from: an explicit routing key wins, else a prefix of its input. */
export interface RoutingInput {
  routingKey?: string;
  /** The prompt, or the first embedding text. */
  text: string;
}

/**
 * Picks the shard of a request (docs/architecture.md#shard-queues). Prompts sharing their first `prefixChars` characters land on
 * the same shard, which is what lets a worker's prefix KV cache see them again.
 */
export function routeToShard(input: RoutingInput, shards: number, prefixChars: number): number {
  if (shards === 1) return 0;
  const key =
    input.routingKey !== undefined ? `k:${input.routingKey}` : `p:${input.text.slice(0, prefixChars)}`;
  return jumpConsistentHash(hash64(key), shards);
}
