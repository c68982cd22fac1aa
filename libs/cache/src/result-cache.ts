import type { Cluster, Redis } from 'ioredis';
import type { JobResult, Usage } from '@hotpath/contracts';
import { cacheKeys } from './cache-keys';

/** What a cache entry holds. */
export interface CachedResult {
  result: JobResult;
  usage: Usage | null;
  modelDigest: string;
  createdAt: number;
}

/** Per-model bounds; memory stays within maxEntries × maxEntryBytes (plus Redis overhead). */
export interface CacheBounds {
  ttlS: number;
  maxEntries: number;
  maxEntryBytes: number;
}

// KEYS: entry, lru. ARGV: value, ttl ms, now, max entries. Evicts least recently used entries of the
// model beyond max entries, atomically with the insert.
const SET_LUA = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
local evicted = 0
if over > 0 then
  local old = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #old, 2 do
    redis.call('DEL', old[i])
    evicted = evicted + 1
  end
end
return evicted
`;

// KEYS: entry, lru. ARGV: now. Reads and touches the entry; forgets index members whose entry expired.
const GET_LUA = `
local v = redis.call('GET', KEYS[1])
if v then
  redis.call('ZADD', KEYS[2], 'XX', ARGV[1], KEYS[1])
else
  redis.call('ZREM', KEYS[2], KEYS[1])
end
return v
`;

type Scripted = (Redis | Cluster) & {
  hpCacheSet(
    entry: string,
    lru: string,
    value: string,
    ttlMs: string,
    now: string,
    max: string,
  ): Promise<number>;
  hpCacheGet(entry: string, lru: string, now: string): Promise<string | null>;
};

/**
 * The exact result cache: one Redis string per entry with a TTL, and a per-model sorted set of last
 * access times that bounds the entry count with LRU eviction. Redis itself must run `noeviction`
 * (BullMQ requires it), so the cache bounds its own memory rather than relying on `maxmemory`.
 */
export class ResultCache {
  private readonly redis: Scripted;

  constructor(redis: Redis | Cluster) {
    redis.defineCommand('hpCacheSet', { numberOfKeys: 2, lua: SET_LUA });
    redis.defineCommand('hpCacheGet', { numberOfKeys: 2, lua: GET_LUA });
    this.redis = redis as Scripted;
  }

  async get(model: string, hash: string): Promise<CachedResult | undefined> {
    const raw = await this.redis.hpCacheGet(
      cacheKeys.entry(model, hash),
      cacheKeys.lru(model),
      String(Date.now()),
    );
    return raw ? (JSON.parse(raw) as CachedResult) : undefined;
  }

  /** Stores a result; returns false (and stores nothing) when it is larger than `maxEntryBytes`. */
  async set(
    model: string,
    hash: string,
    value: CachedResult,
    bounds: CacheBounds,
  ): Promise<{ stored: boolean; evicted: number }> {
    const raw = JSON.stringify(value);
    if (Buffer.byteLength(raw) > bounds.maxEntryBytes) return { stored: false, evicted: 0 };
    const evicted = await this.redis.hpCacheSet(
      cacheKeys.entry(model, hash),
      cacheKeys.lru(model),
      raw,
      String(bounds.ttlS * 1000),
      String(Date.now()),
      String(bounds.maxEntries),
    );
    return { stored: true, evicted };
  }

  /** Entries currently indexed for a model (expired ones linger until touched or evicted). */
  size(model: string): Promise<number> {
    return this.redis.zcard(cacheKeys.lru(model));
  }

  /** Deletes every entry of a model (admin purge). Returns how many entries were indexed. */
  async purge(model: string): Promise<number> {
    const lru = cacheKeys.lru(model);
    let removed = 0;
    for (;;) {
      const batch = await this.redis.zpopmin(lru, 500);
      if (batch.length === 0) break;
      const keys = batch.filter((_, i) => i % 2 === 0);
      removed += keys.length;
      await this.redis.del(...keys);
    }
    return removed;
  }
}
