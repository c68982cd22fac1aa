import type { Queue } from 'bullmq';
import { QUEUE_DEPTH_STATES, setQueueDepth, type HotpathMetrics, type Logger } from '@hotpath/telemetry';

/** One served shard queue, for the depth gauge. */
export interface DepthQueue {
  model: string;
  shard: number;
  queue: Queue;
}

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
          setQueueDepth(this.metrics, model, shard, await queue.getJobCounts(...QUEUE_DEPTH_STATES));
        }),
      );
    } catch (err) {
      this.logger.warn('queue depth sample failed', { error: err });
    } finally {
      this.polling = false;
    }
  }
}
