import { shardQueueKey } from '@hotpath/contracts';
import { isCluster, type RedisClient } from './redis-connection';
import { assertSameSlot } from './redis-slots';

/** How long a reservation counts when its API never released it (crashed between reserve and add). */
export const ADMISSION_RESERVATION_TTL_MS = 10_000;

/**
 * One atomic step: counts the jobs waiting in the given shards (BullMQ's `wait` lists and
 * `prioritized` sets, the fair queue's waiting count and the direct lane's ready jobs) plus their live reservations (submissions
 * still being enqueued) and the model's live leases (blocks of places an API process hands out
 * itself, see {@link AdmissionGate.lease}), adds ARGV[5] (what was counted elsewhere), and takes
 * ARGV[6] places only when they all fit under the limit: one place is a reservation in KEYS[1],
 * more are a lease `<places>:<id>` in the lease set (the last key). KEYS: the reservation set to
 * take a place in, then per counted shard its reservation set, `wait`, `prioritized`, the
 * fair-queue count (`fq:count`) and the lane's ready set (`lane:ready`), then, when ARGV[7] is 1, the model's lease set (it lives with
 * shard 0). ARGV: limit (negative: count only), id, now (ms), reservation TTL (ms), counted
 * elsewhere, places wanted, lease set given. Expired entries of the set written to are dropped;
 * others are only not counted. Returns {admitted (0|1), counted}.
 */
const ADMIT_LUA = `
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local limit = tonumber(ARGV[1])
local want = tonumber(ARGV[6])
local leases = ARGV[7] == '1' and KEYS[#KEYS] or nil
local last = leases and #KEYS - 1 or #KEYS
local n = tonumber(ARGV[5])
for i = 2, last, 5 do
  n = n + redis.call('ZCOUNT', KEYS[i], now - ttl, '+inf')
    + redis.call('LLEN', KEYS[i + 1]) + redis.call('ZCARD', KEYS[i + 2])
    + math.max(0, tonumber(redis.call('GET', KEYS[i + 3]) or '0'))
    + redis.call('ZCARD', KEYS[i + 4])
end
if leases then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', leases, now - ttl, '+inf')) do
    n = n + tonumber(string.match(m, '^(%d+):'))
  end
end
if limit < 0 or n + want > limit or (want > 1 and not leases) then return {0, n} end
local into = want > 1 and leases or KEYS[1]
redis.call('ZREMRANGEBYSCORE', into, '-inf', now - ttl)
redis.call('ZADD', into, now, want > 1 and (want .. ':' .. ARGV[2]) or ARGV[2])
redis.call('PEXPIRE', into, ttl)
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

  /** The lease set of a model: one per model, in shard 0's slot, so that lease grants are serialised. */
  static leaseKey(model: string): string {
    return shardQueueKey(model, 0, 'admission:leases');
  }

  /** The keys the script reads for one shard (all in the shard's slot). */
  static shardKeys(model: string, shard: number): string[] {
    return [
      AdmissionGate.key(model, shard),
      shardQueueKey(model, shard, 'wait'),
      shardQueueKey(model, shard, 'prioritized'),
      shardQueueKey(model, shard, 'fq:count'),
      shardQueueKey(model, shard, 'lane:ready'),
    ];
  }

  /** Reserves one place in `shard` for job `id` (see the class). */
  async reserve(model: string, shards: number, shard: number, id: string, limit: number): Promise<Admission> {
    return this.take(model, shards, shard, id, limit, 1);
  }

  /**
   * Takes a lease of `places` places for the model, decided at shard 0 like a reservation there: it
   * is granted only when the backlog, the live reservations and leases and these places all fit
   * under `limit`, and counts `places` until {@link releaseLease} (or the reservation TTL). Lease
   * grants of all API processes are serialised on one key, so they never overshoot together.
   */
  async lease(model: string, shards: number, id: string, places: number, limit: number): Promise<Admission> {
    return this.take(model, shards, 0, id, limit, places);
  }

  private async take(
    model: string,
    shards: number,
    shard: number,
    id: string,
    limit: number,
    places: number,
  ): Promise<Admission> {
    const now = this.now();
    const all = Array.from({ length: shards }, (_, s) => s);
    const counted = isCluster(this.redis) ? [shard] : all;
    let elsewhere = 0;
    if (counted.length < shards) {
      const others = await Promise.all(
        all
          .filter((s) => s !== shard)
          .map((s) =>
            this.run(model, [AdmissionGate.key(model, s), ...AdmissionGate.shardKeys(model, s)], s === 0, {
              limit: -1,
              id,
              now,
              elsewhere: 0,
              places: 1,
            }),
          ),
      );
      elsewhere = others.reduce((sum, [, n]) => sum + n, 0);
    }
    const keys = [
      AdmissionGate.key(model, shard),
      ...counted.flatMap((s) => AdmissionGate.shardKeys(model, s)),
    ];
    const [admitted, backlog] = await this.run(model, keys, counted.includes(0), {
      limit,
      id,
      now,
      elsewhere,
      places,
    });
    return { admitted: admitted === 1, backlog };
  }

  /** One script call; `withLeases` when shard 0 is among the counted shards (its slot holds the leases). */
  private run(
    model: string,
    keys: string[],
    withLeases: boolean,
    a: { limit: number; id: string; now: number; elsewhere: number; places: number },
  ): Promise<[number, number]> {
    const all = withLeases ? [...keys, AdmissionGate.leaseKey(model)] : keys;
    if (isCluster(this.redis)) assertSameSlot('admission', all);
    return this.redis.hpAdmit(
      all.length,
      ...all,
      a.limit,
      a.id,
      a.now,
      ADMISSION_RESERVATION_TTL_MS,
      a.elsewhere,
      a.places,
      withLeases ? 1 : 0,
    );
  }

  /** Gives the place back: the job is in its queue now (counted there), or was never added. */
  async release(model: string, shard: number, id: string): Promise<void> {
    await this.redis.zrem(AdmissionGate.key(model, shard), id);
  }

  /** Gives a lease's places back: every job admitted under it is in its queue, or was never added. */
  async releaseLease(model: string, id: string, places: number): Promise<void> {
    await this.redis.zrem(AdmissionGate.leaseKey(model), `${places}:${id}`);
  }
}
