import type { Redis } from 'ioredis';
import { shardQueueKey } from '@hotpath/contracts';

/** How long a reservation counts when its API never released it (crashed between reserve and add). */
export const ADMISSION_RESERVATION_TTL_MS = 10_000;

/**
 * One atomic step per submission: counts the jobs waiting over all shards of a model (BullMQ's
 * `wait` lists and `prioritized` sets, and the fair queue's waiting count) plus the reservations of
 * submissions still being enqueued, and takes a reservation only when that sum is below the limit.
 * Reservations older than ARGV[4] ms are dropped first. KEYS: the reservation set, then `wait`,
 * `prioritized` and the fair-queue count of each shard.
 * ARGV: limit, job id, now (ms), reservation TTL (ms). Returns {admitted (0|1), counted}.
 */
const ADMIT_LUA = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[4]))
local n = redis.call('ZCARD', KEYS[1])
for i = 2, #KEYS, 3 do
  n = n + redis.call('LLEN', KEYS[i]) + redis.call('ZCARD', KEYS[i + 1])
  n = n + math.max(0, tonumber(redis.call('GET', KEYS[i + 2]) or '0'))
end
if n >= tonumber(ARGV[1]) then return {0, n} end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, n}
`;

/** The answer of {@link AdmissionGate.reserve}. */
export interface Admission {
  admitted: boolean;
  /** Waiting jobs plus pending reservations seen by the check (before this one). */
  backlog: number;
}

/**
 * `max_waiting` enforced atomically across any number of API replicas: a submission reserves a
 * place before its BullMQ add and releases the reservation once the job is in the queue (where the
 * count sees it) or the add failed. Between the two a job may be counted twice, so the gate errs
 * towards an early 429 for a few milliseconds, never towards overshooting.
 *
 * The script reads the keys of every shard queue of the model, so it needs a single Redis (or a
 * Sentinel primary); on Redis Cluster those keys live in different slots.
 */
export class AdmissionGate {
  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand('hpAdmit', { lua: ADMIT_LUA });
  }

  /** The reservation set of a model. */
  static key(model: string): string {
    return `hp:admission:${model}`;
  }

  async reserve(model: string, shards: number, id: string, limit: number): Promise<Admission> {
    const keys = [AdmissionGate.key(model)];
    for (let s = 0; s < shards; s++)
      keys.push(
        shardQueueKey(model, s, 'wait'),
        shardQueueKey(model, s, 'prioritized'),
        shardQueueKey(model, s, 'fq:count'),
      );
    const [admitted, backlog] = await (
      this.redis as unknown as {
        hpAdmit(n: number, ...args: (string | number)[]): Promise<[number, number]>;
      }
    ).hpAdmit(keys.length, ...keys, limit, id, this.now(), ADMISSION_RESERVATION_TTL_MS);
    return { admitted: admitted === 1, backlog };
  }

  /** Gives the place back: the job is in its queue now (counted there), or was never added. */
  async release(model: string, id: string): Promise<void> {
    await this.redis.zrem(AdmissionGate.key(model), id);
  }
}
