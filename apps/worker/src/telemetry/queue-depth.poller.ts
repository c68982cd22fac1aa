import type { Queue } from 'bullmq';
import type { HotpathMetrics, Logger } from '@hotpath/telemetry';

/** One served shard queue, for the depth gauge. */
export interface DepthQueue {
  model: string;
  shard: number;
  queue: Queue;
}

/** States reported in `hotpath_queue_depth{state}`. */
export const QUEUE_DEPTH_STATES = ['waiting', 'prioritized', 'active', 'delayed'] as const;

/**
 * Samples `hotpath_queue_depth{model,shard,state}` from BullMQ's job counts every `intervalMs`.
 * The timer is unref'd so it never keeps the process alive; a failed sample is logged and skipped.
 */
export class QueueDepthPoller {
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly queues: readonly DepthQueue[],
    private readonly metrics: HotpathMetrics,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await Promise.all(
        this.queues.map(async ({ model, shard, queue }) => {
          const counts = await queue.getJobCounts(...QUEUE_DEPTH_STATES);
          for (const state of QUEUE_DEPTH_STATES) {
            this.metrics.queueDepth.set({ model, shard: String(shard), state }, counts[state] ?? 0);
          }
        }),
      );
    } catch (err) {
      this.logger.warn('queue depth sample failed', { error: err });
    } finally {
      this.polling = false;
    }
  }
}
