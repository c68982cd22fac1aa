import { Queue } from 'bullmq';
import { shardQueueKey, shardQueueName, shardQueueRef, type QueuedJob } from '@hotpath/contracts';
import { jobOptions, type RetrySettings } from './job-options';
import type { RedisClient } from './redis-connection';
import { waitForReplicas, type Durability } from './replica-ack';
import { laneKeys } from './shard-lane';

/** Outcome of removing a queued job. */
export type RemoveOutcome = 'removed' | 'active' | 'missing';

/**
 * The producer side of the shard queues: one BullMQ `Queue` per model shard, created lazily and
 * sharing one fail-fast connection (the API answers 503 rather than buffering when Redis is down).
 * With `durability`, an enqueue resolves only once that many replicas hold the new job.
 */
export class ShardQueues {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: RedisClient,
    private readonly onError: (err: Error) => void = () => undefined,
    private readonly durability?: Durability,
  ) {}

  queue(model: string, shard: number): Queue {
    const name = shardQueueName(model, shard);
    let q = this.queues.get(name);
    if (!q) {
      const ref = shardQueueRef(model, shard);
      q = new Queue(ref.name, { connection: this.connection, prefix: ref.prefix });
      q.on('error', this.onError);
      this.queues.set(name, q);
    }
    return q;
  }

  /** Adds a job; `front`: ahead of every job already waiting in its queue (see `jobOptions`). */
  async enqueue(job: QueuedJob, retry: RetrySettings, front = false): Promise<void> {
    await this.queue(job.model, job.shard).add(job.task, job, jobOptions(job.id, job.priority, retry, front));
    if (this.durability)
      await waitForReplicas(this.connection, shardQueueKey(job.model, job.shard, 'id'), this.durability);
  }

  /**
   * Adds a job whose first `attemptsMade` attempts ran elsewhere (the direct lane): it runs after
   * their back-off, with the attempts left, and its later back-offs continue the exponential series.
   */
  async continueAfter(job: QueuedJob, retry: RetrySettings, attemptsMade: number): Promise<void> {
    const left = Math.max(1, retry.attempts - attemptsMade);
    const opts = jobOptions(job.id, job.priority, { ...retry, attempts: left });
    const step = 2 ** Math.max(0, attemptsMade - 1);
    await this.queue(job.model, job.shard).add(job.task, job, {
      ...opts,
      delay: retry.backoff_ms * step,
      backoff: { type: 'exponential', delay: retry.backoff_ms * step * 2 },
    });
  }

  /** Adds jobs of one shard queue in one round trip (the fair queue's hand-off). */
  async enqueueMany(
    model: string,
    shard: number,
    jobs: readonly QueuedJob[],
    retry: RetrySettings,
  ): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue(model, shard).addBulk(
      jobs.map((job) => ({ name: job.task, data: job, opts: jobOptions(job.id, job.priority, retry) })),
    );
  }

  /**
   * Jobs waiting to run (plain, prioritized, in the fair queue and ready in the direct lane) over
   * the given shards of a model.
   */
  async backlog(model: string, shards: number): Promise<number> {
    const [counts, own] = await Promise.all([
      Promise.all(
        Array.from({ length: shards }, (_, s) => this.queue(model, s).getJobCounts('waiting', 'prioritized')),
      ),
      this.ownWaiting(model, shards),
    ]);
    return counts.reduce((sum, c) => sum + (c['waiting'] ?? 0) + (c['prioritized'] ?? 0), own);
  }

  /** Jobs waiting in Hotpath's own structures: the fair queues' counts and the lanes' ready sets. */
  private async ownWaiting(model: string, shards: number): Promise<number> {
    // One pipeline per shard: the keys live in different slots on a cluster.
    const values = await Promise.all(
      Array.from({ length: shards }, (_, s) =>
        this.connection
          .pipeline()
          .get(shardQueueKey(model, s, 'fq:count'))
          .zcard(laneKeys(model, s).ready)
          .exec(),
      ),
    );
    return values.reduce(
      (sum, res) => sum + Math.max(0, Number(res?.[0]?.[1] ?? 0)) + Number(res?.[1]?.[1] ?? 0),
      0,
    );
  }

  /**
   * Removes a job that has not started; `active` when a worker holds it (cancel it through the
   * store). `payload` is the job's data as it was found.
   */
  async remove(
    model: string,
    shard: number,
    id: string,
  ): Promise<{ outcome: RemoveOutcome; payload?: unknown }> {
    const q = this.queue(model, shard);
    const job = await q.getJob(id);
    if (!job) return { outcome: 'missing' };
    // Job.remove refuses a locked (active) job; that is the signal the job is already running.
    const removed = await q.remove(id);
    return { outcome: removed === 1 ? 'removed' : 'active', payload: job.data as unknown };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
