import type { LaneMinute, ShardLane } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';

/** How often a shard's lane counts are written. */
const FLUSH_MS = 5000;

/**
 * Counts the lane jobs of one shard that ended here, per minute, and the failed ones, written
 * every few seconds in one round trip (a failure at once): the queue dashboard's throughput and recent failures,
 * which BullMQ keeps for its own jobs. Counts that could not be written are kept for the next try.
 */
export class LaneTally {
  private minutes = new Map<number, LaneMinute>();
  private failures: { id: string; at: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lane: ShardLane,
    private readonly model: string,
    private readonly shard: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  completed(): void {
    this.minute().completed++;
  }

  /** A failed job is listed at once (operators look for it right after it failed); counts wait. */
  failed(id: string): void {
    this.minute().failed++;
    this.failures.push({ id, at: this.now() });
    if (this.failures.length === 1) setImmediate(() => void this.flush());
  }

  /** Writes what was counted; on close, after the last job ended. */
  async flush(): Promise<void> {
    if (this.minutes.size === 0 && this.failures.length === 0) return;
    const minutes = [...this.minutes.values()];
    const failures = this.failures;
    this.minutes = new Map();
    this.failures = [];
    try {
      await this.lane.tally(this.model, this.shard, minutes, failures);
    } catch (err) {
      for (const m of minutes) {
        const into = this.minuteOf(m.minute);
        into.completed += m.completed;
        into.failed += m.failed;
      }
      this.failures.push(...failures);
      this.logger.warn('could not write lane job counts; kept for the next write', { error: err });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private minute(): LaneMinute {
    return this.minuteOf(Math.floor(this.now() / 60_000));
  }

  private minuteOf(minute: number): LaneMinute {
    let m = this.minutes.get(minute);
    if (!m) {
      m = { minute, completed: 0, failed: 0 };
      this.minutes.set(minute, m);
    }
    return m;
  }
}
