import type { Queue } from 'bullmq';
import type { ShardLane } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';

/** Failed jobs removed per queue and sweep; the next sweep takes the rest. */
const SWEEP_LIMIT = 1000;

/** The direct lanes whose failed-job lists the sweeper trims too. */
export interface SweptLanes {
  lane: ShardLane;
  shards: readonly { model: string; shard: number }[];
}

/**
 * Removes failed jobs older than `retentionS` from the shard queues this worker serves (and from
 * their direct lanes' failed lists, which hold ids only). BullMQ's
 * own `removeOnFail: {age}` only trims when a later job of the same queue fails, so a lone failed
 * job (its prompt in the payload) would otherwise stay forever. Sweeps every half retention, at
 * least once a second and at most every 10 minutes; a failed sweep is logged and retried next time.
 */
export class FailedJobSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly queues: readonly { queue: Queue }[],
    private readonly retentionS: number,
    private readonly logger: Logger,
    private readonly lanes?: SweptLanes,
    private readonly now: () => number = Date.now,
  ) {}

  get intervalMs(): number {
    return Math.min(600_000, Math.max(1000, (this.retentionS * 1000) / 2));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Removes what is past retention now; the number of jobs removed. */
  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      const before = this.now() - this.retentionS * 1000;
      const [removed, laneRemoved] = await Promise.all([
        Promise.all(
          this.queues.map(({ queue }) => queue.clean(this.retentionS * 1000, SWEEP_LIMIT, 'failed')),
        ),
        Promise.all(
          (this.lanes?.shards ?? []).map((s) => this.lanes?.lane.sweepFailed(s.model, s.shard, before) ?? 0),
        ),
      ]);
      return removed.reduce((n, ids) => n + ids.length, 0) + laneRemoved.reduce((n, k) => n + k, 0);
    } catch (err) {
      this.logger.warn('failed-job sweep failed', { error: err });
      return 0;
    } finally {
      this.sweeping = false;
    }
  }
}
