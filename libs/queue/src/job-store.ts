import type { JobError, JobResult, JobStatus, Timings, Usage } from '@hotpath/contracts';
import { EMPTY_TIMINGS, type JobRecord } from './job-record';
import { isCluster, type RedisClient } from './redis-connection';
import { ReplicaAckError, waitForReplicas, type Durability } from './replica-ack';

/** Channel on which every terminal transition is announced (payload: `<id> <status>`). */
export const JOB_EVENTS_CHANNEL = 'hp:job-events';
/** Channel on which cancellation of a running job is requested (payload: job id). */
export const JOB_CANCEL_CHANNEL = 'hp:job-cancel';
/**
 * Channel on which the first follower of a running job is announced (payload: job id): its worker
 * starts writing token events, which nobody reads before (the cheapest event is the one not written).
 */
export const JOB_WATCH_CHANNEL = 'hp:job-watch';

export function jobRecordKey(id: string): string {
  return `hp:job:${id}`;
}

/**
 * Conditional transition, atomic in Redis: only when the current status is one of ARGV[2] (comma list)
 * does the record move to ARGV[3] and take the field/value pairs ARGV[5..]. ARGV[4] > 0 resets the TTL.
 * A terminal transition publishes `<id> <status>` (ARGV[1] is the id) on the events channel inside the
 * same script, so a waiter that subscribed before reading the record can never miss it. The record is
 * the script's only key, so it runs on any Redis Cluster slot; the channel is a classic (cluster-wide)
 * one, because waiters of any job listen on it. Returns {applied (0|1), previous status}.
 */
const TRANSITION_LUA = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return {0, ''} end
if not string.find(',' .. ARGV[2] .. ',', ',' .. s .. ',', 1, true) then return {0, s} end
redis.call('HSET', KEYS[1], 'status', ARGV[3], unpack(ARGV, 5))
if tonumber(ARGV[4]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
if ARGV[3] == 'completed' or ARGV[3] == 'failed' or ARGV[3] == 'cancelled' then
  redis.call('PUBLISH', '${JOB_EVENTS_CHANNEL}', ARGV[1] .. ' ' .. ARGV[3])
end
return {1, s}
`;

/**
 * queued|running → running at the start of a run, counting it: `attempts` is incremented in the
 * record itself, so a run after a crashed worker (which BullMQ does not count) is counted too.
 * ARGV[1]: started_at. Returns {applied (0|1), previous status, attempt, watched (0|1)}.
 */
const START_LUA = `
local r = redis.call('HMGET', KEYS[1], 'status', 'watched')
local s = r[1]
if not s then return {0, '', 0, 0} end
if s ~= 'queued' and s ~= 'running' then return {0, s, 0, 0} end
local a = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[1])
return {1, s, a, r[2] == '1' and 1 or 0}
`;

/**
 * Marks a job as followed (an SSE or OpenAI stream reads its token events) and tells its worker on
 * ARGV[1] (the watch channel), unless it already ended. ARGV[2]: job id. Returns 1 when marked.
 */
const WATCH_LUA = `
local s = redis.call('HGET', KEYS[1], 'status')
if s ~= 'queued' and s ~= 'running' then return 0 end
if redis.call('HSETNX', KEYS[1], 'watched', '1') == 1 then
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return 1
`;

/**
 * running → queued for a job handed back at shutdown, which does not use up an attempt: the count
 * the run took is given back. Returns {applied (0|1), previous status}.
 */
const HAND_BACK_LUA = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return {0, ''} end
if s ~= 'running' then return {0, s} end
redis.call('HSET', KEYS[1], 'status', 'queued')
if tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'attempts', -1)
end
return {1, s}
`;

/** Outcome of a conditional transition. */
export interface TransitionResult {
  applied: boolean;
  /** Status before the call; `undefined` when the record does not exist (expired or never created). */
  previous: JobStatus | undefined;
}

export interface JobStoreOptions {
  /** How long a finished job stays readable (HOTPATH_RESULT_TTL_S). */
  resultTtlS: number;
  /** How long an unfinished record lives: a safety net against records orphaned by a lost queue. */
  pendingTtlS?: number;
  /**
   * Replicas that must hold a finished record (`complete`, `fail`, `cancel`, a cache hit) before the
   * call resolves (`HOTPATH_REDIS_WAIT_REPLICAS`); a new record is made durable by the caller, through
   * {@link JobStore.durable}, together with its queue entry.
   */
  durability?: Durability;
}

type Fields = Record<string, string>;

/** What a new record is made of before any worker touches it. */
type NewRecord = Pick<JobRecord, 'id' | 'tenant' | 'model' | 'task' | 'priority' | 'shard' | 'createdAt'>;

/** The fields every record starts with, whatever its first status. */
function identityFields(r: NewRecord): Fields {
  return {
    id: r.id,
    tenant: r.tenant,
    model: r.model,
    task: r.task,
    priority: r.priority,
    shard: String(r.shard),
    created_at: String(r.createdAt),
    attempts: '0',
  };
}

/**
 * Job records in Redis, independent of BullMQ's own job retention: BullMQ removes completed jobs at
 * once, and results stay readable here for `resultTtlS`. Every status change is a conditional,
 * atomic transition so that a cancel racing a completion has exactly one winner.
 */
export class JobStore {
  private readonly pendingTtlS: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: JobStoreOptions,
  ) {
    this.pendingTtlS = options.pendingTtlS ?? 7 * 24 * 3600;
    redis.defineCommand('hpTransition', { numberOfKeys: 1, lua: TRANSITION_LUA });
    redis.defineCommand('hpStartRun', { numberOfKeys: 1, lua: START_LUA });
    redis.defineCommand('hpHandBack', { numberOfKeys: 1, lua: HAND_BACK_LUA });
    redis.defineCommand('hpWatch', { numberOfKeys: 1, lua: WATCH_LUA });
  }

  /**
   * Creates a queued record (ids are random UUIDs, so it is new). `watched`: a stream will follow
   * the job from the start, so its worker writes token events from the first token.
   */
  async create(r: NewRecord & { cacheKey?: string; watched?: boolean }): Promise<void> {
    const key = jobRecordKey(r.id);
    const fields: Fields = {
      ...identityFields(r),
      status: 'queued',
      cached: '0',
      ...(r.cacheKey ? { cache_key: r.cacheKey } : {}),
      ...(r.watched ? { watched: '1' } : {}),
    };
    await this.write(key, fields, this.pendingTtlS);
  }

  /** Stores a job that was answered from the cache: born completed, with the result TTL. */
  async createCompleted(
    r: NewRecord,
    done: { result: JobResult; usage: Usage | null; timings: Timings; cached: boolean },
  ): Promise<void> {
    const key = jobRecordKey(r.id);
    const fields: Fields = {
      ...identityFields(r),
      status: 'completed',
      started_at: String(r.createdAt),
      finished_at: String(Date.now()),
      cached: done.cached ? '1' : '0',
      result: JSON.stringify(done.result),
      usage: JSON.stringify(done.usage),
      timings: JSON.stringify(done.timings),
    };
    await this.write(key, fields, this.options.resultTtlS);
    await this.durable(r.id);
  }

  /**
   * Resolves once the configured number of replicas hold every write this store made to the node of
   * job `id`'s record; throws {@link ReplicaAckError} when they do not within the timeout.
   */
  async durable(id: string): Promise<void> {
    if (this.options.durability) await waitForReplicas(this.redis, jobRecordKey(id), this.options.durability);
  }

  /**
   * HSET then EXPIRE in one pipeline: one round trip and two commands (a MULTI would add two more
   * per job). Both reach Redis in one write; the TTL only bounds records that are never finished.
   */
  private async write(key: string, fields: Fields, ttlS: number): Promise<void> {
    const res = (await this.redis.pipeline().hset(key, fields).expire(key, ttlS).exec()) ?? [];
    const failed = res.find(([err]) => err !== null);
    if (failed?.[0]) throw failed[0];
  }

  async delete(id: string): Promise<void> {
    await this.redis.del(jobRecordKey(id));
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const h = await this.redis.hgetall(jobRecordKey(id));
    return parseRecord(h);
  }

  /** Many records in one round trip (batch submissions, listings). */
  async getMany(ids: readonly string[]): Promise<(JobRecord | undefined)[]> {
    if (ids.length === 0) return [];
    // Records of different jobs live in different cluster slots: one command each (ioredis sends
    // them to their nodes concurrently) instead of one pipeline.
    if (isCluster(this.redis)) return Promise.all(ids.map((id) => this.get(id).catch(() => undefined)));
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(jobRecordKey(id));
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, h]) => (err ? undefined : parseRecord(h as Record<string, string>)));
  }

  /**
   * queued|running → running, at the start of each run; `attempt` is this run's number (1-based),
   * counted in the record, so re-runs after a crashed worker are counted too.
   */
  async markRunning(
    id: string,
    startedAt: number,
  ): Promise<TransitionResult & { attempt: number; watched: boolean }> {
    const [applied, previous, attempt, watched] = await (
      this.redis as unknown as {
        hpStartRun(k: string, startedAt: string): Promise<[number, string, number, number]>;
      }
    ).hpStartRun(jobRecordKey(id), String(startedAt));
    return {
      applied: applied === 1,
      previous: previous ? (previous as JobStatus) : undefined,
      attempt: Number(attempt),
      watched: Number(watched) === 1,
    };
  }

  /**
   * Marks an unfinished job as followed, so its worker writes token events from now on (and the
   * tokens generated so far); the first mark is announced on {@link JOB_WATCH_CHANNEL}. `false` when
   * the job is finished or gone.
   */
  async watch(id: string): Promise<boolean> {
    const marked = await (
      this.redis as unknown as { hpWatch(k: string, channel: string, id: string): Promise<number> }
    ).hpWatch(jobRecordKey(id), JOB_WATCH_CHANNEL, id);
    return marked === 1;
  }

  /** running → queued when the job waits for a retry (the attempt it used stays counted). */
  markRequeued(id: string): Promise<TransitionResult> {
    return this.transition(id, ['running'], 'queued', 0, {});
  }

  /** running → queued when a worker hands a job back at shutdown: the attempt is given back. */
  async markHandedBack(id: string): Promise<TransitionResult> {
    const [applied, previous] = await (
      this.redis as unknown as { hpHandBack(k: string): Promise<[number, string]> }
    ).hpHandBack(jobRecordKey(id));
    return { applied: applied === 1, previous: previous ? (previous as JobStatus) : undefined };
  }

  complete(
    id: string,
    done: { result: JobResult; usage: Usage | null; timings: Timings; finishedAt?: number },
  ): Promise<TransitionResult> {
    return this.transition(id, ['queued', 'running'], 'completed', this.options.resultTtlS, {
      result: JSON.stringify(done.result),
      usage: JSON.stringify(done.usage),
      timings: JSON.stringify(done.timings),
      finished_at: String(done.finishedAt ?? Date.now()),
    });
  }

  fail(id: string, error: JobError, timings?: Timings): Promise<TransitionResult> {
    return this.transition(id, ['queued', 'running'], 'failed', this.options.resultTtlS, {
      error: JSON.stringify(error),
      ...(timings ? { timings: JSON.stringify(timings) } : {}),
      finished_at: String(Date.now()),
    });
  }

  /** queued|running → cancelled. A running job's worker learns of it through {@link JOB_CANCEL_CHANNEL}. */
  cancel(id: string, result?: JobResult): Promise<TransitionResult> {
    return this.transition(id, ['queued', 'running'], 'cancelled', this.options.resultTtlS, {
      error: JSON.stringify({ code: 'cancelled', message: 'cancelled by the client' }),
      finished_at: String(Date.now()),
      cancel_requested: '1',
      ...(result ? { result: JSON.stringify(result) } : {}),
    });
  }

  private async transition(
    id: string,
    from: readonly JobStatus[],
    to: JobStatus,
    ttlS: number,
    fields: Fields,
  ): Promise<TransitionResult> {
    const args = [id, from.join(','), to, String(ttlS), ...Object.entries(fields).flat()];
    const [applied, previous] = (await (
      this.redis as unknown as {
        hpTransition(k1: string, ...a: string[]): Promise<[number, string]>;
      }
    ).hpTransition(jobRecordKey(id), ...args)) as [number, string];
    // A finished record waits for its replicas (bounded by the timeout) before the job is acknowledged
    // to BullMQ; too few acknowledgements do not undo a result that is written.
    if (applied === 1 && ttlS > 0)
      await this.durable(id).catch((err: unknown) => {
        if (!(err instanceof ReplicaAckError)) throw err;
      });
    return { applied: applied === 1, previous: previous ? (previous as JobStatus) : undefined };
  }
}

function json<T>(v: string | undefined, fallback: T): T {
  if (v === undefined || v === '') return fallback;
  return JSON.parse(v) as T;
}

function num(v: string | undefined): number | null {
  return v === undefined || v === '' ? null : Number(v);
}

function parseRecord(h: Record<string, string> | null | undefined): JobRecord | undefined {
  if (!h || !h['id'] || !h['status']) return undefined;
  return {
    id: h['id'],
    tenant: h['tenant'] ?? '',
    model: h['model'] ?? '',
    task: (h['task'] ?? 'generate') as JobRecord['task'],
    priority: (h['priority'] ?? 'normal') as JobRecord['priority'],
    shard: Number(h['shard'] ?? 0),
    status: h['status'] as JobStatus,
    result: json<JobResult | null>(h['result'], null),
    error: json<JobError | null>(h['error'], null),
    cached: h['cached'] === '1',
    usage: json<Usage | null>(h['usage'], null),
    timings: json<Timings>(h['timings'], EMPTY_TIMINGS),
    attempts: Number(h['attempts'] ?? 0),
    createdAt: Number(h['created_at'] ?? 0),
    startedAt: num(h['started_at']),
    finishedAt: num(h['finished_at']),
    cancelRequested: h['cancel_requested'] === '1',
    ...(h['cache_key'] ? { cacheKey: h['cache_key'] } : {}),
    ...(h['watched'] === '1' ? { watched: true } : {}),
  };
}
