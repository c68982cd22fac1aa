import type { QueueJob } from '../jobs/job-runner';

type Processor<R> = (job: QueueJob, token?: string) => Promise<R>;

/**
 * The jobs each own shard queue runs in this worker, from BullMQ and from the direct lane alike
 * (one set of `concurrency` slots), and who hears when one of them ends: the lane takes its ready
 * jobs into slots a BullMQ job frees too.
 */
export class ShardSlots {
  private readonly running = new Map<string, number>();
  private readonly listeners = new Map<string, () => void>();

  /** Jobs of shard queue `queue` running now. */
  count(queue: string): number {
    return this.running.get(queue) ?? 0;
  }

  /** Sets who hears that a job of `queue` ended (one listener per queue). */
  onFreed(queue: string, listener: () => void): void {
    this.listeners.set(queue, listener);
  }

  /** Wraps a processor of `queue` so that its jobs are counted. */
  counted<R>(queue: string, processor: Processor<R>): Processor<R> {
    return async (job, token) => {
      this.running.set(queue, this.count(queue) + 1);
      try {
        return await processor(job, token);
      } finally {
        this.running.set(queue, Math.max(0, this.count(queue) - 1));
        this.listeners.get(queue)?.();
      }
    };
  }
}
