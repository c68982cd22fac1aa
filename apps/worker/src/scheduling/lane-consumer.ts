import { DelayedError, UnrecoverableError } from 'bullmq';
import type { QueuedJob } from '@hotpath/contracts';
import type { LaneJob, RetrySettings, ShardLane, ShardQueues } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import type { QueueJob } from '../jobs/job-runner';
import type { LaneTally } from './lane-tally';

/** Most jobs one take asks for (a worker with more free slots takes again at once). */
const TAKE_MAX = 64;
/** A take that failed (Redis away) is tried again after this long. */
const RETRY_TAKE_MS = 1000;
/**
 * The lane is also checked this often without a wake-up: a message lost while the subscriber was
 * away (a reconnect wakes every lane at once, so this is only the last resort).
 */
const POLL_MS = 5000;
/** Expired leases recovered per shard and round. */
const RECOVER_LIMIT = 100;

/** What {@link LaneConsumer} needs. */
export interface LaneConsumerDeps {
  lane: ShardLane;
  /** Where a lane job goes when it leaves the lane unfinished (retry, hand-back, recovery). */
  queues: ShardQueues;
  model: string;
  shard: number;
  /** Jobs this worker runs at once for the shard (lane and BullMQ together). */
  capacity: number;
  /** Jobs of the shard running here now (lane and BullMQ). */
  running: () => number;
  /** Runs one job (the shard's processor: fair hand-off, spans, the job runner). */
  process: (job: QueueJob, token: string) => Promise<unknown>;
  retry: RetrySettings;
  /** How long a lease lasts without renewal (`queue.lock_duration_ms`). */
  leaseMs: number;
  /** How often expired leases are looked for (`queue.stalled_interval_ms`). */
  recoverEveryMs: number;
  tally: LaneTally;
  logger: Logger;
  /** Told how many lane jobs run here after each change (the shard's BullMQ Worker takes the rest). */
  onActive?: (active: number) => void;
}

/**
 * The worker side of one shard's direct lane: takes ready jobs while it has free slots (woken by
 * the lane's channel, by a job's end, or by the poll), runs them through the shard's processor
 * under a lease it renews, and releases the lease when the job has left the lane: finished (in one
 * batched round trip), or moved into BullMQ for a retry with back-off or a hand-back at shutdown.
 * Every worker of the shard also moves jobs whose leases ran out (their worker died) into BullMQ,
 * where they run again like a stalled BullMQ job.
 */
export class LaneConsumer {
  private readonly runningHere = new Map<string, Promise<void>>();
  private toRelease: string[] = [];
  private releasing = false;
  /** Bumped by every wake-up: a take that came back short ends the wake only if none came since. */
  private wakes = 0;
  private pending = true;
  /** The take loop while it runs. */
  private pumping: Promise<void> | undefined;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: LaneConsumerDeps) {}

  start(): void {
    const { leaseMs, recoverEveryMs } = this.deps;
    this.timers = [
      setInterval(() => this.wake(), POLL_MS),
      setInterval(() => void this.renew(), Math.max(100, Math.floor(leaseMs / 3))),
      setInterval(() => void this.recover(), recoverEveryMs),
    ];
    for (const t of this.timers) t.unref();
    this.wake();
  }

  /** Ready jobs may be in the lane: take while there are free slots. */
  wake(): void {
    this.wakes++;
    this.pending = true;
    void this.pump();
  }

  /** A job of the shard ended here (from the lane or BullMQ): take more if the lane may hold some. */
  slotFreed(): void {
    if (this.pending) void this.pump();
  }

  /** Stops taking; resolves when the lane jobs running here have settled. */
  async stopTaking(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    // A take already sent still starts what it got: wait for it before waiting for the jobs.
    await this.pumping;
    await Promise.allSettled([...this.runningHere.values()]);
    await this.flushReleases();
  }

  /** Stops the timers (after {@link stopTaking}; recovery and renewal end with it). */
  close(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.retryTimer);
  }

  private pump(): Promise<void> {
    if (this.pumping || this.stopped) return this.pumping ?? Promise.resolve();
    this.pumping = this.takeWhileFree().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private async takeWhileFree(): Promise<void> {
    try {
      while (this.pending && !this.stopped) {
        const free = this.deps.capacity - this.deps.running();
        if (free <= 0) break;
        const wakes = this.wakes;
        const want = Math.min(free, TAKE_MAX);
        const jobs = await this.deps.lane.take(this.deps.model, this.deps.shard, want, this.deps.leaseMs);
        if (jobs.length < want && wakes === this.wakes) this.pending = false;
        for (const job of jobs) this.run(job);
      }
    } catch (err) {
      this.deps.logger.warn('could not take jobs from the lane', {
        model: this.deps.model,
        shard: this.deps.shard,
        error: err,
      });
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.wake(), RETRY_TAKE_MS);
      this.retryTimer.unref();
    }
  }

  private run(taken: LaneJob): void {
    const { id, payload } = taken;
    const job = this.queueJob(taken);
    const run = this.deps
      .process(job, `lane:${id}`)
      .then(
        () => this.ended(id, 'ok'),
        (err: unknown) => this.settleError(payload, err),
      )
      .catch((err: unknown) =>
        // The lease stays: it runs out and the job is recovered through BullMQ.
        this.deps.logger.warn('lane job could not leave the lane; its lease will be recovered', {
          job_id: id,
          error: err,
        }),
      )
      .finally(() => {
        this.runningHere.delete(id);
        this.deps.onActive?.(this.runningHere.size);
        this.slotFreed();
      });
    this.runningHere.set(id, run);
    this.deps.onActive?.(this.runningHere.size);
  }

  /** What the job runner sees of a lane job: its first attempt, handed back into BullMQ. */
  private queueJob({ id, payload }: LaneJob): QueueJob {
    return {
      id,
      data: payload,
      attemptsMade: 0,
      opts: { attempts: this.deps.retry.attempts },
      lane: true,
      moveToDelayed: async () => {
        // Shutdown: the job goes to BullMQ with every attempt left; the lease ends in settleError.
        await this.deps.queues.enqueue(payload, this.deps.retry);
      },
    };
  }

  private async settleError(payload: QueuedJob, err: unknown): Promise<void> {
    if (err instanceof DelayedError) return this.ended(payload.id, 'handed_back');
    if (err instanceof UnrecoverableError) return this.ended(payload.id, 'failed');
    // A retryable fault: the next attempts run from BullMQ, after the back-off.
    await this.deps.queues.continueAfter(payload, this.deps.retry, 1);
    this.ended(payload.id, 'retried');
  }

  private ended(id: string, how: 'ok' | 'failed' | 'retried' | 'handed_back'): void {
    if (how === 'ok') this.deps.tally.completed();
    else if (how === 'failed') this.deps.tally.failed(id);
    this.toRelease.push(id);
    // Every job ending in this turn goes out in one round trip.
    if (this.toRelease.length === 1) setImmediate(() => void this.flushReleases());
  }

  private async flushReleases(): Promise<void> {
    if (this.releasing || this.toRelease.length === 0) return;
    this.releasing = true;
    const ids = this.toRelease;
    this.toRelease = [];
    try {
      await this.deps.lane.release(this.deps.model, this.deps.shard, ids);
    } catch (err) {
      // Left as they are, the leases would run out and finished jobs be recovered (and skipped).
      this.toRelease.push(...ids);
      this.deps.logger.warn('could not release lane leases; retrying', { error: err });
      setTimeout(() => void this.flushReleases(), RETRY_TAKE_MS).unref();
      return;
    } finally {
      this.releasing = false;
    }
    // Jobs that ended while this write was out go in the next one.
    if (this.toRelease.length > 0) setImmediate(() => void this.flushReleases());
  }

  private async renew(): Promise<void> {
    const ids = [...this.runningHere.keys()];
    try {
      await this.deps.lane.renew(this.deps.model, this.deps.shard, ids, this.deps.leaseMs);
    } catch (err) {
      this.deps.logger.warn('could not renew lane leases', { error: err });
    }
  }

  /** Moves jobs whose leases ran out into BullMQ (their worker died or stalled past the lease). */
  async recover(): Promise<number> {
    if (this.stopped) return 0;
    const { lane, model, shard } = this.deps;
    try {
      const expired = (await lane.expired(model, shard, RECOVER_LIMIT)).filter(
        // A lease of a job still running here was renewed late, not lost.
        (e) => !this.runningHere.has(e.id),
      );
      for (const e of expired) {
        if (!e.payload) continue;
        await this.deps.queues.enqueue(e.payload, this.deps.retry);
        this.deps.logger.warn('lane job recovered after its lease ran out', { job_id: e.id, model, shard });
      }
      return await lane.forget(
        model,
        shard,
        expired.map((e) => e.id),
      );
    } catch (err) {
      this.deps.logger.warn('could not recover expired lane leases', { model, shard, error: err });
      return 0;
    }
  }
}
