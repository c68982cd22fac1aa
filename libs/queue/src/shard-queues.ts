import { Queue } from 'bullmq';
import { shardQueueKey, shardQueueName, shardQueueRef, type QueuedJob } from '@hotpath/contracts';
import { jobOptions, type RetrySettings } from './job-options';
import type { RedisClient } from './redis-connection';
import { waitForReplicas, type Durability } from './replica-ack';

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

  async enqueue(job: QueuedJob, retry: RetrySettings): Promise<void> {
    await this.queue(job.model, job.shard).add(job.task, job, jobOptions(job.id, job.priority, retry));
    if (this.durability)
      await waitForReplicas(this.connection, shardQueueKey(job.model, job.shard, 'id'), this.durability);
  }

  /** Jobs waiting to run (plain and prioritized) over the given shards of a model. */
  async backlog(model: string, shards: number): Promise<number> {
    const counts = await Promise.all(
      Array.from({ length: shards }, (_, s) => this.queue(model, s).getJobCounts('waiting', 'prioritized')),
    );
    return counts.reduce((sum, c) => sum + (c['waiting'] ?? 0) + (c['prioritized'] ?? 0), 0);
  }

  /** Removes a job that has not started; `active` when a worker holds it (cancel it through the store). */
  async remove(model: string, shard: number, id: string): Promise<RemoveOutcome> {
    const q = this.queue(model, shard);
    const job = await q.getJob(id);
    if (!job) return 'missing';
    // Job.remove refuses a locked (active) job; that is the signal the job is already running.
    const removed = await q.remove(id);
    return removed === 1 ? 'removed' : 'active';
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
