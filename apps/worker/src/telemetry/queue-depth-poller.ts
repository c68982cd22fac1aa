import type { Queue } from 'bullmq';
import { fairWaiting, laneCounts, type RedisClient } from '@hotpath/queue';
import { QUEUE_DEPTH_STATES, setQueueDepth, type HotpathMetrics, type Logger } from '@hotpath/telemetry';

/** One served shard queue, for the depth gauge. */
export interface DepthQueue {
  model: string;
  shard: number;
  queue: Queue;
}

/**
 * Samples `hotpath_queue_depth{model,shard,state}` from BullMQ's job counts (and the fair queue's
 * waiting count, state `fair_waiting`, and the direct lane's `lane_ready` / `lane_active`) every
 * `intervalMs`.
 * The timer is unref'd so it never keeps the process alive; a failed sample is logged and skipped.
 */
export class QueueDepthPoller {
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly queues: readonly DepthQueue[],
    /** Reads the fair queues' waiting jobs (BullMQ's own client type has no HLEN). */
    private readonly redis: RedisClient,
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
          const [counts, fair, lane] = await Promise.all([
            queue.getJobCounts(...QUEUE_DEPTH_STATES),
            fairWaiting(this.redis, model, shard),
            laneCounts(this.redis, model, shard),
          ]);
          setQueueDepth(this.metrics, model, shard, counts, fair, lane);
        }),
      );
    } catch (err) {
      this.logger.warn('queue depth sample failed', { error: err });
    } finally {
      this.polling = false;
    }
  }
}
