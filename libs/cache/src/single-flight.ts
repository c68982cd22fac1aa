import type { Cluster, Redis } from 'ioredis';
import { cacheKeys } from './cache-keys';

/** Outcome of trying to lead a computation. */
export type FlightClaim = { kind: 'leader' } | { kind: 'follower'; jobId: string };

// KEYS: flight. ARGV: expected job id, new job id, ttl ms. Replaces a flight only if it still points
// at the job the caller saw finish badly, so two API replicas cannot both take over.
const TAKEOVER_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`;

// KEYS: flight. ARGV: job id. Ends a flight only if this job still leads it.
const LAND_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type Scripted = (Redis | Cluster) & {
  hpFlightTakeover(key: string, expected: string, next: string, ttlMs: string): Promise<number>;
  hpFlightLand(key: string, jobId: string): Promise<number>;
};

/**
 * Single-flight across API replicas: the first request for a cache key leads (its job runs); identical
 * requests while it is queued or running follow (they get the same job id). The worker lands the
 * flight when the job ends, after filling the cache, so later requests become cache hits.
 */
export class SingleFlight {
  private readonly redis: Scripted;

  constructor(
    redis: Redis | Cluster,
    private readonly ttlMs = 15 * 60 * 1000,
  ) {
    redis.defineCommand('hpFlightTakeover', { numberOfKeys: 1, lua: TAKEOVER_LUA });
    redis.defineCommand('hpFlightLand', { numberOfKeys: 1, lua: LAND_LUA });
    this.redis = redis as Scripted;
  }

  async claim(model: string, hash: string, jobId: string): Promise<FlightClaim> {
    const key = cacheKeys.flight(model, hash);
    const ok = await this.redis.set(key, jobId, 'PX', this.ttlMs, 'NX');
    if (ok === 'OK') return { kind: 'leader' };
    const leader = await this.redis.get(key);
    if (leader === null) return this.claim(model, hash, jobId);
    return { kind: 'follower', jobId: leader };
  }

  /** Takes over a flight whose leading job failed, was cancelled or vanished. */
  async takeover(model: string, hash: string, deadJobId: string, jobId: string): Promise<boolean> {
    return (
      (await this.redis.hpFlightTakeover(
        cacheKeys.flight(model, hash),
        deadJobId,
        jobId,
        String(this.ttlMs),
      )) === 1
    );
  }

  /** Ends the flight led by `jobId` (no-op if another job leads it now). */
  async land(model: string, hash: string, jobId: string): Promise<void> {
    await this.redis.hpFlightLand(cacheKeys.flight(model, hash), jobId);
  }
}
