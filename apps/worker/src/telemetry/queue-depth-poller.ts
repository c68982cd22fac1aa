import type { Queue } from 'bullmq';
import { shardQueueKey } from '@hotpath/contracts';
import { QUEUE_DEPTH_STATES, setQueueDepth, type HotpathMetrics, type Logger } from '@hotpath/telemetry';

/**
 * The `state` of jobs waiting in a shard's fair queue (per-tenant queues, not yet in BullMQ): with
 * fair queuing on, a backlog is mostly here, BullMQ's `waiting`/`prioritized` hold the lookahead.
 */
export const FAIR_WAITING_STATE = 'fair_waiting';

/** One served shard queue, for the depth gauge. */
export interface DepthQueue {
  model: string;
  shard: number;
  queue: Queue;
}

/**
 * Samples `hotpath_queue_depth{model,shard,state}` from BullMQ's job counts (and the fair queue's
 * waiting count, state `fair_waiting`) every `intervalMs`.
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
          const client = await queue.client;
          const fair = Number((await client.get(shardQueueKey(model, shard, 'fq:count'))) ?? 0);
          this.metrics.queueDepth.set(
            { model, shard: String(shard), state: FAIR_WAITING_STATE },
            Math.max(0, fair),
          );
        }),
      );
    } catch (err) {
      this.logger.warn('queue depth sample failed', { error: err });
    } finally {
      this.polling = false;
    }
  }
}
