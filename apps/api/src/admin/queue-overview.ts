import { PRIORITY_VALUE, shardQueueKey, type ClusterConfig } from '@hotpath/contracts';
import {
  ShardLane,
  type JobStore,
  type RedisClient,
  type ShardQueues,
  type WorkerRegistry,
  type WorkerStatus,
} from '@hotpath/queue';

/** Failed jobs shown per model. */
const RECENT_FAILURES = 10;
/** Minutes of throughput history per model (BullMQ keeps one data point a minute). */
const THROUGHPUT_MINUTES = 15;
/** BullMQ scores a prioritized job `priority × 2^32 + counter`, so each priority is a FIFO band. */
const PRIORITY_BAND = 0x100000000;

/** One shard queue's state. */
export interface ShardOverview {
  shard: number;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Seconds the oldest waiting job has waited; null when none waits. */
  oldest_waiting_s: number | null;
  /** Live workers taking jobs from this shard as their own (thieves not counted). */
  workers: number;
}

/** A failed job as the dashboard lists it. */
export interface FailureOverview {
  id: string;
  shard: number;
  code: string;
  message: string;
  failed_at: string | null;
}

export interface ModelOverview {
  model: string;
  backend: string;
  shards: ShardOverview[];
  /** Jobs finished per minute over the last {@link THROUGHPUT_MINUTES} minutes, oldest first. */
  completed_per_min: number[];
  failed_per_min: number[];
  recent_failures: FailureOverview[];
}

export interface WorkerOverview {
  worker_id: string;
  host: string;
  pid: number;
  version: string;
  alive: boolean;
  active_jobs: number;
  started_at: string;
  last_seen: string;
  /** Seconds since the last heartbeat. */
  age_s: number;
  models: { model: string; shards: number[]; steals: boolean }[];
}

/** What `/v1/admin/queues` (and the page at `/admin/queues`) shows. */
export interface QueueOverview {
  generated_at: string;
  models: ModelOverview[];
  workers: WorkerOverview[];
}

/**
 * Builds the queue overview from BullMQ's own structures (counts, per-minute metrics, the failed
 * set) and the direct lanes' (the same, for jobs on their first attempt outside BullMQ), the job
 * records (error codes) and the worker heartbeats. Read-only.
 */
export class QueueOverviewReader {
  private readonly lane: ShardLane;

  constructor(
    private readonly cluster: ClusterConfig,
    private readonly queues: ShardQueues,
    private readonly redis: RedisClient,
    private readonly store: JobStore,
    private readonly registry: WorkerRegistry,
    private readonly now: () => number = Date.now,
  ) {
    this.lane = new ShardLane(redis, undefined, now);
  }

  async read(): Promise<QueueOverview> {
    const now = this.now();
    const workers = await this.registry.list(now);
    const models = await Promise.all(
      this.cluster.models.map((m) => this.model(m.name, m.backend, m.shards, workers, now)),
    );
    return {
      generated_at: new Date(now).toISOString(),
      models,
      workers: workers.map((w) => workerView(w, now)),
    };
  }

  private async model(
    model: string,
    backend: string,
    shards: number,
    workers: readonly WorkerStatus[],
    now: number,
  ): Promise<ModelOverview> {
    const indexes = Array.from({ length: shards }, (_, s) => s);
    const perShard = await Promise.all(indexes.map((s) => this.shard(model, s, workers, now)));
    const [completed, failed] = await Promise.all([
      this.perMinute(model, indexes, 'completed'),
      this.perMinute(model, indexes, 'failed'),
    ]);
    return {
      model,
      backend,
      shards: perShard,
      completed_per_min: completed,
      failed_per_min: failed,
      recent_failures: await this.failures(model, indexes),
    };
  }

  private async shard(
    model: string,
    shard: number,
    workers: readonly WorkerStatus[],
    now: number,
  ): Promise<ShardOverview> {
    const q = this.queues.queue(model, shard);
    const [counts, lane, oldest] = await Promise.all([
      q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
      this.lane.counts(model, shard),
      this.oldestWaiting(model, shard),
    ]);
    return {
      shard,
      waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0) + lane.ready,
      active: (counts['active'] ?? 0) + lane.leased,
      delayed: counts['delayed'] ?? 0,
      failed: (counts['failed'] ?? 0) + lane.failed,
      oldest_waiting_s: oldest === undefined ? null : Math.max(0, (now - oldest) / 1000),
      workers: workers.filter(
        (w) => w.alive && w.models.some((m) => m.model === model && m.shards.includes(shard)),
      ).length,
    };
  }

  /**
   * Enqueue time (ms) of the oldest waiting job: the head of each priority band and of the plain
   * wait list, and the oldest of the lane's ready jobs.
   */
  private async oldestWaiting(model: string, shard: number): Promise<number | undefined> {
    const key = (suffix: string): string => shardQueueKey(model, shard, suffix);
    const laneOldest = this.lane.oldestReady(model, shard);
    const heads = await Promise.all([
      this.redis.lindex(key('wait'), -1),
      ...Object.values(PRIORITY_VALUE).map(async (p) => {
        const [id] = await this.redis.zrangebyscore(
          key('prioritized'),
          p * PRIORITY_BAND,
          `(${(p + 1) * PRIORITY_BAND}`,
          'LIMIT',
          0,
          1,
        );
        return id ?? null;
      }),
    ]);
    const stamps = await Promise.all(
      heads.filter((id): id is string => id !== null).map((id) => this.redis.hget(key(id), 'timestamp')),
    );
    const lane = await laneOldest;
    const times = [
      ...stamps.filter((t): t is string => t !== null).map(Number),
      ...(lane === undefined ? [] : [lane]),
    ];
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** Sums BullMQ's and the lanes' per-minute counts over the shards; oldest minute first. */
  private async perMinute(model: string, shards: number[], type: 'completed' | 'failed'): Promise<number[]> {
    const sums = new Array<number>(THROUGHPUT_MINUTES).fill(0);
    const [bull, lanes] = await Promise.all([
      Promise.all(shards.map((s) => this.queues.queue(model, s).getMetrics(type, 0, THROUGHPUT_MINUTES - 1))),
      Promise.all(shards.map((s) => this.lane.perMinute(model, s, type, THROUGHPUT_MINUTES))),
    ]);
    // BullMQ lists the newest minute first.
    for (const m of bull)
      m.data.forEach((v, i) => {
        const at = THROUGHPUT_MINUTES - 1 - i;
        if (at >= 0) sums[at] = (sums[at] ?? 0) + (Number(v) || 0);
      });
    for (const counts of lanes) counts.forEach((v, i) => (sums[i] = (sums[i] ?? 0) + v));
    return sums;
  }

  /** The most recent failures of BullMQ's failed sets and the lanes' lists, newest first. */
  private async failures(model: string, shards: number[]): Promise<FailureOverview[]> {
    const [bull, lanes] = await Promise.all([
      Promise.all(
        shards.map(async (s) =>
          (await this.queues.queue(model, s).getFailed(0, RECENT_FAILURES - 1)).map((j) => ({
            id: j.id ?? '',
            shard: s,
            at: j.finishedOn,
            reason: j.failedReason,
          })),
        ),
      ),
      Promise.all(
        shards.map(async (s) =>
          (await this.lane.recentFailed(model, s, RECENT_FAILURES)).map((f) => ({
            id: f.id,
            shard: s,
            at: f.at,
            reason: undefined,
          })),
        ),
      ),
    ]);
    const jobs = [...bull.flat(), ...lanes.flat()]
      .sort((a, b) => (b.at ?? 0) - (a.at ?? 0))
      .slice(0, RECENT_FAILURES);
    const records = await this.store.getMany(jobs.map((j) => j.id));
    return jobs.map((j, i) => {
      const error = records[i]?.error;
      return {
        id: j.id,
        shard: j.shard,
        code: error?.code ?? 'unknown',
        message: (error?.message ?? j.reason ?? '').slice(0, 300),
        failed_at: j.at ? new Date(j.at).toISOString() : null,
      };
    });
  }
}

function workerView(w: WorkerStatus, now: number): WorkerOverview {
  return {
    worker_id: w.worker_id,
    host: w.host,
    pid: w.pid,
    version: w.version,
    alive: w.alive,
    active_jobs: w.active_jobs,
    started_at: new Date(w.started_at).toISOString(),
    last_seen: new Date(w.last_seen).toISOString(),
    age_s: Math.max(0, (now - w.last_seen) / 1000),
    models: w.models.map((m) => ({ model: m.model, shards: m.shards, steals: m.steals })),
  };
}
