import type { Queue, Worker } from 'bullmq';
import type { Logger } from '@hotpath/telemetry';

/** What the steal decision looks at, for one model in one worker. */
export interface StealInputs {
  /** Jobs waiting (plain or prioritized) in the worker's own shard queues of the model. */
  ownBacklog: number;
  /** Jobs from its own shards running in the worker now. */
  ownInFlight: number;
  /** Jobs from its own shards the worker may run at once (concurrency × own shards). */
  ownCapacity: number;
}

/**
 * Steal only when the worker's own shards have nothing waiting AND its own slots are not all busy:
 * its own queues always come first, and a worker that is merely busy on its own work never adds
 * stolen work on top.
 */
export function shouldSteal(i: StealInputs): boolean {
  return i.ownBacklog === 0 && i.ownInFlight < i.ownCapacity;
}

/**
 * BullMQ concurrency of each steal Worker: together the thieves of a model run at most about one
 * shard's worth of jobs (`concurrency`), however many other shards there are.
 */
export function thiefConcurrency(concurrency: number, otherShards: number): number {
  return Math.max(1, Math.ceil(concurrency / Math.max(1, otherShards)));
}

export interface WorkStealerOptions {
  model: string;
  /** The model's shard queues this worker serves (read for their backlog). */
  ownQueues: readonly Queue[];
  /** BullMQ Workers on the model's other shard queues, created with `autorun: false`. */
  thieves: readonly Worker[];
  ownInFlight: () => number;
  ownCapacity: number;
  /** How often the decision is re-evaluated (also on {@link WorkStealer.nudge}). */
  intervalMs: number;
  logger: Logger;
}

/**
 * Work stealing for one model in one worker. The worker runs, besides its own shard Workers, a
 * "thief" Worker on each other shard queue of the model; they start paused and are resumed
 * (`worker.resume()`, which also starts a never-run Worker) only while {@link shouldSteal} holds,
 * and paused again (`worker.pause(true)`: stop fetching, let stolen jobs finish) as soon as the
 * worker's own shards have work. Stolen jobs run through the same processor, so they share the
 * model's batcher and replicas with the worker's own jobs.
 */
export class WorkStealer {
  private timer: NodeJS.Timeout | undefined;
  private active = false;
  private checking = false;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: WorkStealerOptions) {}

  /** Whether the thieves are running now. */
  get stealing(): boolean {
    return this.active;
  }

  start(): void {
    this.schedule(0);
  }

  /** Re-evaluates at once (e.g. when an own Worker reports its queue drained). */
  nudge(): void {
    if (this.stopped) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** Stops deciding and pauses the thieves without waiting for stolen jobs (the caller closes them). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.active) await this.setActive(false);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), ms);
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    this.checking = true;
    try {
      const counts = await Promise.all(
        this.opts.ownQueues.map((q) => q.getJobCountByTypes('wait', 'prioritized')),
      );
      if (this.stopped) return;
      const steal = shouldSteal({
        ownBacklog: counts.reduce((s, n) => s + n, 0),
        ownInFlight: this.opts.ownInFlight(),
        ownCapacity: this.opts.ownCapacity,
      });
      if (steal !== this.active) await this.setActive(steal);
    } catch (err) {
      // A Redis hiccup: keep the current state and try again on the next tick.
      this.opts.logger.warn('work stealing check failed', { model: this.opts.model, error: err });
    } finally {
      this.checking = false;
    }
    if (this.stopped) return;
    const rerun = this.again;
    this.again = false;
    this.schedule(rerun ? 0 : this.opts.intervalMs);
  }

  private async setActive(on: boolean): Promise<void> {
    this.active = on;
    this.opts.logger.debug(on ? 'stealing from other shards' : 'stopped stealing', {
      model: this.opts.model,
    });
    if (on) for (const w of this.opts.thieves) w.resume();
    else await Promise.all(this.opts.thieves.map((w) => w.pause(true)));
  }
}
