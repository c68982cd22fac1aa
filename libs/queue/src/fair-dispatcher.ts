import type { QueuedJob } from '@hotpath/contracts';
import type { FairQueue } from './fair-queue';
import type { RetrySettings } from './job-options';
import type { ShardQueues } from './shard-queues';

/** What the dispatcher needs to know about one fair shard. */
export interface FairShard {
  model: string;
  shard: number;
  lookahead: number;
}

/** How long an add's confirmation may wait for the next dispatch call before it is sent on its own. */
const ACK_FLUSH_MS = 20;

interface ShardState {
  target: FairShard;
  finished: string[];
  added: string[];
  /** Set while a dispatch round runs; further requests only mark `again`. */
  running: Promise<void> | undefined;
  again: boolean;
  flushTimer: NodeJS.Timeout | undefined;
}

/**
 * The worker side of fair queuing: whenever a job ends (and on a periodic tick), the shard's fair
 * queue is asked for the next jobs in fair order, which are added to BullMQ here. One dispatch runs
 * per shard at a time in a process; requests arriving meanwhile are folded into one more round, so
 * under load a dispatch call serves many completions. Confirmations of adds ride on the next call.
 */
export class FairDispatcher {
  private readonly shards = new Map<string, ShardState>();
  private tick: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly fair: FairQueue,
    private readonly queues: ShardQueues,
    private readonly retry: RetrySettings,
    private readonly onError: (err: unknown, target: FairShard) => void,
  ) {}

  /** Serves `target`; calls for shards not added are ignored. */
  add(target: FairShard): void {
    this.shards.set(key(target.model, target.shard), {
      target,
      finished: [],
      added: [],
      running: undefined,
      again: false,
      flushTimer: undefined,
    });
  }

  /** A job of `tenant` ended for good on `model`/`shard`: its place goes to the next job in fair order. */
  finished(model: string, shard: number, tenant: string): void {
    const s = this.shards.get(key(model, shard));
    if (!s) return;
    s.finished.push(tenant);
    this.kick(s);
  }

  /** Refills every shard once now and then every `intervalMs` (covers jobs that never end here). */
  start(intervalMs: number): void {
    this.refillAll();
    this.tick = setInterval(() => this.refillAll(), intervalMs);
    this.tick.unref();
  }

  /** Stops the tick and waits for running rounds (their adds land; pending confirmations are sent). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.tick);
    for (const s of this.shards.values()) clearTimeout(s.flushTimer);
    await Promise.allSettled([...this.shards.values()].map((s) => s.running));
    await Promise.allSettled(
      [...this.shards.values()]
        .filter((s) => s.added.length > 0 || s.finished.length > 0)
        .map((s) => this.round(s)),
    );
  }

  private refillAll(): void {
    for (const s of this.shards.values()) this.kick(s);
  }

  private kick(s: ShardState): void {
    if (this.closed) return;
    if (s.running) {
      s.again = true;
      return;
    }
    clearTimeout(s.flushTimer);
    s.flushTimer = undefined;
    s.running = (async () => {
      do {
        s.again = false;
        await this.round(s).catch((err: unknown) => this.onError(err, s.target));
      } while (s.again && !this.closed);
    })().finally(() => {
      s.running = undefined;
      if (s.added.length > 0 && !this.closed) {
        s.flushTimer = setTimeout(() => this.kick(s), ACK_FLUSH_MS);
        s.flushTimer.unref();
      }
    });
  }

  private async round(s: ShardState): Promise<void> {
    const { model, shard, lookahead } = s.target;
    const finished = s.finished.splice(0);
    const added = s.added.splice(0);
    let jobs: QueuedJob[];
    try {
      jobs = await this.fair.dispatch(model, shard, lookahead, finished, added);
    } catch (err) {
      // Not applied: retried with the next round (the running counts must not drift).
      s.finished.unshift(...finished);
      s.added.unshift(...added);
      throw err;
    }
    if (jobs.length === 0) return;
    await this.queues.enqueueMany(model, shard, jobs, this.retry);
    s.added.push(...jobs.map((j) => j.id));
  }
}

function key(model: string, shard: number): string {
  return `${model}\u0000${shard}`;
}
