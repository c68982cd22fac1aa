import type { RedisClient } from './redis-connection';

/**
 * Two token buckets of one tenant, checked and taken together: one request from the requests
 * bucket (refills `rps` per second up to `burst`) and `cost` from the tokens bucket (refills
 * `tpm` per minute up to `tpm`). Either bucket may be off (rate 0). Time is the Redis server's, so
 * API replicas with skewed clocks share one consistent bucket. KEYS: the tenant's bucket hash.
 * ARGV: rps, burst, tpm, cost. Returns {allowed (0|1), requests left, tokens left, retry after ms,
 * ms until the requests bucket is full, ms until the tokens bucket is full}; levels are strings
 * (Lua numbers would be truncated) and -1 for a bucket that is off.
 */
const BUCKETS_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rps, burst, tpm, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function level(p, per_ms, cap)
  local v = tonumber(redis.call('HGET', KEYS[1], p .. 'v'))
  local ts = tonumber(redis.call('HGET', KEYS[1], p .. 't'))
  if not v or not ts then return cap end
  return math.min(cap, v + math.max(0, now - ts) * per_ms)
end
local rv, tv = -1, -1
local wait = 0
if rps > 0 then
  rv = level('r', rps / 1000, burst)
  if rv < 1 then wait = math.max(wait, (1 - rv) / (rps / 1000)) end
end
if tpm > 0 then
  tv = level('k', tpm / 60000, tpm)
  if tv < cost then wait = math.max(wait, (cost - tv) / (tpm / 60000)) end
end
local ok = 0
if wait == 0 then
  ok = 1
  if rps > 0 then rv = rv - 1 end
  if tpm > 0 then tv = tv - cost end
end
local full_r, full_t, ttl = 0, 0, 1000
if rps > 0 then
  redis.call('HSET', KEYS[1], 'rv', tostring(rv), 'rt', now)
  full_r = (burst - rv) / (rps / 1000)
  ttl = math.max(ttl, full_r)
end
if tpm > 0 then
  redis.call('HSET', KEYS[1], 'kv', tostring(tv), 'kt', now)
  full_t = (tpm - tv) / (tpm / 60000)
  ttl = math.max(ttl, full_t)
end
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl) + 1000)
return {ok, tostring(rv), tostring(tv), math.ceil(wait), math.ceil(full_r), math.ceil(full_t)}
`;

/** A tenant's rates; `undefined` rates are unlimited. */
export interface RateLimits {
  requestsPerS?: number;
  /** Capacity of the requests bucket; default max(1, requestsPerS). */
  burst?: number;
  tokensPerMin?: number;
}

/** The state of both buckets after a check. */
export interface RateDecision {
  allowed: boolean;
  /** Milliseconds until the request would pass (0 when allowed). */
  retryAfterMs: number;
  requests?: { limit: number; remaining: number; resetMs: number };
  tokens?: { limit: number; remaining: number; resetMs: number };
}

/** The requests bucket's capacity for a tenant's limits. */
export function requestBurst(l: RateLimits): number {
  return l.burst ?? Math.max(1, Math.ceil(l.requestsPerS ?? 1));
}

/** Per-tenant token buckets in Redis (`hp:rl:{tenant}`), shared by every API replica. */
export class RateLimiter {
  constructor(private readonly redis: RedisClient) {
    redis.defineCommand('hpRateBuckets', { numberOfKeys: 1, lua: BUCKETS_LUA });
  }

  static key(tenant: string): string {
    return `hp:rl:{${tenant}}`;
  }

  /** Takes one request and `cost` tokens when both buckets hold them; takes nothing otherwise. */
  async take(tenant: string, limits: RateLimits, cost: number): Promise<RateDecision> {
    const rps = limits.requestsPerS ?? 0;
    const tpm = limits.tokensPerMin ?? 0;
    const burst = requestBurst(limits);
    const [ok, rv, tv, wait, fullR, fullT] = await (
      this.redis as unknown as {
        hpRateBuckets(
          k: string,
          ...a: (string | number)[]
        ): Promise<[number, string, string, number, number, number]>;
      }
    ).hpRateBuckets(RateLimiter.key(tenant), rps, burst, tpm, cost);
    return {
      allowed: ok === 1,
      retryAfterMs: Number(wait),
      ...(rps > 0
        ? {
            requests: {
              limit: burst,
              remaining: Math.max(0, Math.floor(Number(rv))),
              resetMs: Number(fullR),
            },
          }
        : {}),
      ...(tpm > 0
        ? { tokens: { limit: tpm, remaining: Math.max(0, Math.floor(Number(tv))), resetMs: Number(fullT) } }
        : {}),
    };
  }
}
