import { PRIORITY_VALUE, shardQueueKey, type Priority, type QueuedJob } from '@hotpath/contracts';
import type { RedisClient } from './redis-connection';
import { waitForReplicas, type Durability } from './replica-ack';
import {
  LANE_ADD_LUA,
  LANE_ADD_MANY_LUA,
  LANE_EXPIRED_LUA,
  LANE_FORGET_LUA,
  LANE_REMOVE_LUA,
  LANE_TAKE_LUA,
} from './shard-lane.lua';

/** Score step of one priority class in `lane:ready` (above any time in ms for centuries). */
const CLASS_STEP = 1e13;

/** The channel a shard's workers hear "jobs are ready in the lane" on. */
export function laneWakeChannel(model: string, shard: number): string {
  return shardQueueKey(model, shard, 'lane:wake');
}

/** The lane's keys of a shard (all under its hash tag). */
export function laneKeys(model: string, shard: number): LaneKeys {
  return {
    ready: shardQueueKey(model, shard, 'lane:ready'),
    data: shardQueueKey(model, shard, 'lane:data'),
    leased: shardQueueKey(model, shard, 'lane:leased'),
    minutes: shardQueueKey(model, shard, 'lane:minutes'),
    failed: shardQueueKey(model, shard, 'lane:failed'),
  };
}

interface LaneKeys {
  ready: string;
  data: string;
  leased: string;
  /** Jobs that ended per minute: fields `completed:<minute>` and `failed:<minute>` (ms / 60,000). */
  minutes: string;
  /** Ids of lane jobs that failed, scored by when (for operators, like BullMQ's failed set). */
  failed: string;
}

/** Minutes of per-minute counts kept (as BullMQ's metrics of the shard queues). */
export const LANE_MINUTES_KEPT = 60;
/** Failed lane jobs listed at most per shard (BullMQ's `removeOnFail.count` of the shard queues). */
const FAILED_KEPT = 10_000;

/** Counts of ended lane jobs of one minute. */
export interface LaneMinute {
  minute: number;
  completed: number;
  failed: number;
}

/** Jobs of one shard's lane: ready, running under a lease, and failed ones still listed. */
export interface LaneCounts {
  ready: number;
  leased: number;
  failed: number;
}

/** The lane counts of one shard in one round trip (no script: any connection will do). */
export async function laneCounts(redis: RedisClient, model: string, shard: number): Promise<LaneCounts> {
  const k = laneKeys(model, shard);
  const res = (await redis.pipeline().zcard(k.ready).zcard(k.leased).zcard(k.failed).exec()) ?? [];
  return {
    ready: Number(res[0]?.[1] ?? 0),
    leased: Number(res[1]?.[1] ?? 0),
    failed: Number(res[2]?.[1] ?? 0),
  };
}

/** A job taken from the lane: its id and payload as added. */
export interface LaneJob {
  id: string;
  payload: QueuedJob;
}

/** A lease that ran out: the payload is missing when its job ended (release half-way). */
export interface ExpiredLease {
  id: string;
  payload?: QueuedJob;
}

/** What {@link ShardLane.remove} found. */
export type LaneRemoval = { outcome: 'removed'; payload: unknown } | { outcome: 'active' | 'missing' };

interface LaneCommands {
  hpLaneAdd(...args: (string | number)[]): Promise<number>;
  hpLaneAddMany(...args: (string | number)[]): Promise<number>;
  hpLaneTake(...args: (string | number)[]): Promise<string[]>;
  hpLaneExpired(...args: (string | number)[]): Promise<string[]>;
  hpLaneForget(...args: (string | number)[]): Promise<number>;
  hpLaneRemove(...args: (string | number)[]): Promise<[number, string?]>;
}

/**
 * The direct lane of the shard queues: a Hotpath-owned queue for the first attempt of a job that
 * finds its shard without a backlog. BullMQ costs ~50 Redis commands per job (add, take, finish,
 * the worker's fetches); a job through the lane costs about ten (one add, one take, a release in
 * one round trip, lease renewals shared by all running jobs). Everything else stays in BullMQ: a
 * backlog (where KEDA, work stealing and the dashboard see it), retries with back-off, jobs handed
 * back at shutdown, and jobs whose worker died (the lease runs out and any worker moves them into
 * BullMQ, as a stalled job). A job id is in at most one of: the lane's ready set, its leases,
 * BullMQ — and once in BullMQ it never comes back.
 */
export class ShardLane {
  private readonly cmd: LaneCommands;
  /** The last ready score this process gave per priority class (FIFO within a millisecond). */
  private readonly lastScore = new Map<number, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly durability?: Durability,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand('hpLaneAdd', { numberOfKeys: 4, lua: LANE_ADD_LUA });
    redis.defineCommand('hpLaneAddMany', { numberOfKeys: 3, lua: LANE_ADD_MANY_LUA });
    redis.defineCommand('hpLaneTake', { numberOfKeys: 3, lua: LANE_TAKE_LUA });
    redis.defineCommand('hpLaneExpired', { numberOfKeys: 2, lua: LANE_EXPIRED_LUA });
    redis.defineCommand('hpLaneForget', { numberOfKeys: 2, lua: LANE_FORGET_LUA });
    redis.defineCommand('hpLaneRemove', { numberOfKeys: 3, lua: LANE_REMOVE_LUA });
    this.cmd = redis as unknown as LaneCommands;
  }

  /**
   * Adds a job to its shard's lane. With `bound`, only while the shard's BullMQ queue has no
   * waiting job and fewer than `bound` jobs are ready in the lane (false: add it to BullMQ); without,
   * always (the fair queue admitted it). `front`: ahead of every ready job. With durability, resolves
   * once the replicas hold it.
   */
  async add(job: QueuedJob, opts: { bound?: number; front?: boolean } = {}): Promise<boolean> {
    const k = laneKeys(job.model, job.shard);
    const score = this.score(opts.front ? 0 : PRIORITY_VALUE[job.priority as Priority]);
    const added = await this.cmd.hpLaneAdd(
      k.ready,
      k.data,
      shardQueueKey(job.model, job.shard, 'wait'),
      shardQueueKey(job.model, job.shard, 'prioritized'),
      job.id,
      JSON.stringify(job),
      score,
      opts.bound ?? -1,
      laneWakeChannel(job.model, job.shard),
    );
    if (added === 1 && this.durability) await waitForReplicas(this.redis, k.ready, this.durability);
    return added === 1;
  }

  /**
   * Adds jobs of one shard in one round trip (the fair queue's hand-off), each in its priority
   * class; one already running under a lease is not added again. Resolves to how many were added.
   */
  async addMany(model: string, shard: number, jobs: readonly QueuedJob[]): Promise<number> {
    if (jobs.length === 0) return 0;
    const k = laneKeys(model, shard);
    const args = jobs.flatMap((job) => [
      job.id,
      JSON.stringify(job),
      this.score(PRIORITY_VALUE[job.priority as Priority]),
    ]);
    const added = await this.cmd.hpLaneAddMany(
      k.ready,
      k.data,
      k.leased,
      laneWakeChannel(model, shard),
      ...args,
    );
    if (this.durability) await waitForReplicas(this.redis, k.ready, this.durability);
    return added;
  }

  /**
   * The ready score of a job of priority class `cls` added now: the class, then the time in ms, and
   * within a ms this process's order (steps of 1/256 ms, the finest a double holds at this size;
   * a burst of more than 256 a ms runs ahead of the clock, never out of order).
   */
  private score(cls: number): number {
    const now = cls * CLASS_STEP + this.now();
    const last = this.lastScore.get(cls) ?? 0;
    const score = now > last ? now : last + 1 / 256;
    this.lastScore.set(cls, score);
    return score;
  }

  /** Takes up to `n` ready jobs in priority then arrival order, leased for `leaseMs`. */
  async take(model: string, shard: number, n: number, leaseMs: number): Promise<LaneJob[]> {
    if (n <= 0) return [];
    const k = laneKeys(model, shard);
    const flat = await this.cmd.hpLaneTake(k.ready, k.data, k.leased, n, this.now() + leaseMs);
    const jobs: LaneJob[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      jobs.push({ id: flat[i] ?? '', payload: JSON.parse(flat[i + 1] ?? '{}') as QueuedJob });
    return jobs;
  }

  /** Extends the leases of jobs still running here; a lease already recovered stays gone. */
  async renew(model: string, shard: number, ids: readonly string[], leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    const deadline = this.now() + leaseMs;
    await this.redis.zadd(laneKeys(model, shard).leased, 'XX', ...ids.flatMap((id) => [deadline, id]));
  }

  /**
   * Ends the leases of jobs that left the lane (finished, or moved into BullMQ). The payload goes
   * first: a lease left without one (a crash between the two) is recognised as ended, not recovered.
   */
  async release(model: string, shard: number, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const k = laneKeys(model, shard);
    await this.redis
      .pipeline()
      .hdel(k.data, ...ids)
      .zrem(k.leased, ...ids)
      .exec();
  }

  /** Up to `limit` leases that ran out (their workers died or stalled). */
  async expired(model: string, shard: number, limit: number): Promise<ExpiredLease[]> {
    const k = laneKeys(model, shard);
    const flat = await this.cmd.hpLaneExpired(k.leased, k.data, this.now(), limit);
    const out: ExpiredLease[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const raw = flat[i + 1];
      out.push({ id: flat[i] ?? '', ...(raw ? { payload: JSON.parse(raw) as QueuedJob } : {}) });
    }
    return out;
  }

  /** Drops expired leases whose jobs are in BullMQ now (or ended); a renewed lease stays. */
  async forget(model: string, shard: number, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const k = laneKeys(model, shard);
    return await this.cmd.hpLaneForget(k.leased, k.data, this.now(), ...ids);
  }

  /** Takes a job out before it started (a cancel); `active` when a worker holds it. */
  async remove(model: string, shard: number, id: string): Promise<LaneRemoval> {
    const k = laneKeys(model, shard);
    const [code, raw] = await this.cmd.hpLaneRemove(k.ready, k.data, k.leased, id);
    if (code === 1) return { outcome: 'removed', payload: raw ? (JSON.parse(raw) as unknown) : undefined };
    return { outcome: code === 2 ? 'active' : 'missing' };
  }

  /**
   * Adds per-minute counts of ended jobs and lists the failed ones (`failed`: id and when, ms);
   * minutes past {@link LANE_MINUTES_KEPT} and failures past the count kept are dropped.
   */
  async tally(
    model: string,
    shard: number,
    minutes: readonly LaneMinute[],
    failed: readonly { id: string; at: number }[],
  ): Promise<void> {
    const k = laneKeys(model, shard);
    const p = this.redis.pipeline();
    for (const m of minutes) {
      if (m.completed > 0) p.hincrby(k.minutes, `completed:${m.minute}`, m.completed);
      if (m.failed > 0) p.hincrby(k.minutes, `failed:${m.minute}`, m.failed);
    }
    const oldest = Math.floor(this.now() / 60_000) - LANE_MINUTES_KEPT;
    const stale = (await this.redis.hkeys(k.minutes)).filter((f) => Number(f.split(':')[1]) < oldest);
    if (stale.length > 0) p.hdel(k.minutes, ...stale);
    if (failed.length > 0) {
      p.zadd(k.failed, ...failed.flatMap((f) => [f.at, f.id]));
      p.zremrangebyrank(k.failed, 0, -FAILED_KEPT - 1);
    }
    await p.exec();
  }

  /** Counts of completed or failed lane jobs in each of the last `n` minutes, oldest first. */
  async perMinute(model: string, shard: number, type: 'completed' | 'failed', n: number): Promise<number[]> {
    const now = Math.floor(this.now() / 60_000);
    const fields = Array.from({ length: n }, (_, i) => `${type}:${now - (n - 1) + i}`);
    const values = await this.redis.hmget(laneKeys(model, shard).minutes, ...fields);
    return values.map((v) => Number(v ?? 0));
  }

  /** The `n` most recent failed lane jobs of a shard: id and when (ms), newest first. */
  async recentFailed(model: string, shard: number, n: number): Promise<{ id: string; at: number }[]> {
    const flat = await this.redis.zrevrange(laneKeys(model, shard).failed, 0, n - 1, 'WITHSCORES');
    const out: { id: string; at: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i] ?? '', at: Number(flat[i + 1]) });
    return out;
  }

  /** Drops failed lane jobs listed before `before` (ms); how many went. */
  async sweepFailed(model: string, shard: number, before: number): Promise<number> {
    return await this.redis.zremrangebyscore(laneKeys(model, shard).failed, '-inf', `(${before}`);
  }

  /** Enqueue time (ms) of the oldest job ready in a shard's lane (any class); none ready: undefined. */
  async oldestReady(model: string, shard: number): Promise<number | undefined> {
    // The lane holds no backlog (at most a lookahead), so reading it whole is cheap.
    const flat = await this.redis.zrange(laneKeys(model, shard).ready, 0, -1, 'WITHSCORES');
    let oldest: number | undefined;
    for (let i = 1; i < flat.length; i += 2) {
      const at = Number(flat[i]) % CLASS_STEP;
      if (oldest === undefined || at < oldest) oldest = at;
    }
    return oldest;
  }

  /** Jobs ready in the lane and running under a lease, of one shard. */
  counts(model: string, shard: number): Promise<LaneCounts> {
    return laneCounts(this.redis, model, shard);
  }
}
