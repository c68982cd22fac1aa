import { shardQueueKey } from '@hotpath/contracts';
import { isCluster, type RedisClient } from './redis-connection';
import { assertSameSlot } from './redis-slots';

/** How long a reservation counts when its API never released it (crashed between reserve and add). */
export const ADMISSION_RESERVATION_TTL_MS = 10_000;

/**
 * One atomic step: counts the jobs waiting in the given shards (BullMQ's `wait` lists and
 * `prioritized` sets, and the fair queue's waiting count) plus their live reservations (submissions still being enqueued), adds ARGV[5]
 * (what was counted elsewhere), and takes a reservation in KEYS[1] only when the sum is below the
 * limit. KEYS: the reservation set to take a place in, then per counted shard its reservation set,
 * `wait`, `prioritized` and the fair-queue count (`fq:count`). ARGV: limit (negative: count only), job id, now (ms), reservation TTL
 * (ms), counted elsewhere. Expired reservations of KEYS[1] are dropped; others are only not counted.
 * Returns {admitted (0|1), counted}.
 */
const ADMIT_LUA = `
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
if tonumber(ARGV[1]) >= 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl) end
local n = tonumber(ARGV[5])
for i = 2, #KEYS, 4 do
  n = n + redis.call('ZCOUNT', KEYS[i], now - ttl, '+inf')
    + redis.call('LLEN', KEYS[i + 1]) + redis.call('ZCARD', KEYS[i + 2])
    + math.max(0, tonumber(redis.call('GET', KEYS[i + 3]) or '0'))
end
if tonumber(ARGV[1]) < 0 or n >= tonumber(ARGV[1]) then return {0, n} end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
return {1, n}
`;

/** The answer of {@link AdmissionGate.reserve}. */
export interface Admission {
  admitted: boolean;
  /** Waiting jobs plus pending reservations seen by the check (before this one). */
  backlog: number;
}

type Scripted = RedisClient & {
  hpAdmit(n: number, ...args: (string | number)[]): Promise<[number, number]>;
};

/**
 * `max_waiting` enforced across any number of API replicas: a submission reserves a place in its
 * shard before its BullMQ add and releases the reservation once the job is in the queue (where the
 * count sees it) or the add failed. Between the two a job may be counted twice, so the gate errs
 * towards an early 429 for a few milliseconds, never towards overshooting.
 *
 * Each shard's reservations live under the shard queue's hash tag (`hp:{model:shard}:admission`).
 * On one Redis (or a Sentinel primary) the script reads every shard at once and is exact. On Redis
 * Cluster one script may only touch one slot: the other shards are counted first (one read each,
 * concurrently), then the target shard decides atomically with that sum. Submissions racing on
 * different shards can then overshoot `max_waiting` by at most their number; never one shard alone.
 */
export class AdmissionGate {
  private readonly redis: Scripted;

  constructor(
    redis: RedisClient,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand('hpAdmit', { lua: ADMIT_LUA });
    this.redis = redis as Scripted;
  }

  /** The reservation set of one shard of a model. */
  static key(model: string, shard: number): string {
    return shardQueueKey(model, shard, 'admission');
  }

  /** The keys the script reads for one shard (all in the shard's slot). */
  static shardKeys(model: string, shard: number): string[] {
    return [
      AdmissionGate.key(model, shard),
      shardQueueKey(model, shard, 'wait'),
      shardQueueKey(model, shard, 'prioritized'),
      shardQueueKey(model, shard, 'fq:count'),
    ];
  }

  async reserve(model: string, shards: number, shard: number, id: string, limit: number): Promise<Admission> {
    const now = this.now();
    const all = Array.from({ length: shards }, (_, s) => s);
    const counted = isCluster(this.redis) ? [shard] : all;
    let elsewhere = 0;
    if (counted.length < shards) {
      const others = await Promise.all(
        all
          .filter((s) => s !== shard)
          .map((s) =>
            this.run([AdmissionGate.key(model, s), ...AdmissionGate.shardKeys(model, s)], -1, id, now, 0),
          ),
      );
      elsewhere = others.reduce((sum, [, n]) => sum + n, 0);
    }
    const keys = [
      AdmissionGate.key(model, shard),
      ...counted.flatMap((s) => AdmissionGate.shardKeys(model, s)),
    ];
    const [admitted, backlog] = await this.run(keys, limit, id, now, elsewhere);
    return { admitted: admitted === 1, backlog };
  }

  private run(
    keys: string[],
    limit: number,
    id: string,
    now: number,
    elsewhere: number,
  ): Promise<[number, number]> {
    if (isCluster(this.redis)) assertSameSlot('admission', keys);
    return this.redis.hpAdmit(keys.length, ...keys, limit, id, now, ADMISSION_RESERVATION_TTL_MS, elsewhere);
  }

  /** Gives the place back: the job is in its queue now (counted there), or was never added. */
  async release(model: string, shard: number, id: string): Promise<void> {
    await this.redis.zrem(AdmissionGate.key(model, shard), id);
  }
}
