import type { QueuedJob } from '@hotpath/contracts';
import { AdaptiveLookahead } from './fair-lookahead';
import type { FairQueue } from './fair-queue';
import type { RetrySettings } from './job-options';
import type { ShardLane } from './shard-lane';
import type { ShardQueues } from './shard-queues';

/** What the dispatcher needs to know about one fair shard. */
export interface FairShard {
  model: string;
  shard: number;
  /** Jobs kept in the shard's BullMQ queue ahead of the workers, at least. */
  lookahead: number;
  /**
   * Up to how many the lookahead may grow when the workers here consume the shard faster than
   * dispatch rounds refill it (see {@link AdaptiveLookahead}); unset or not above `lookahead`, the
   * lookahead is fixed.
   */
  maxLookahead?: number;
  /**
   * Jobs this process runs at once from the shard (its BullMQ concurrency); free slots are filled
   * in one round, beyond the lookahead, since those jobs start at once. 0 = lookahead only.
   */
  capacity?: number;
  /** How long a freed slot is held for its tenant's next job (`fairness.anticipate_ms`; 0 = never). */
  anticipateMs?: number;
  /**
   * Hand jobs out into the shard's direct lane (this process serves the shard and the lane is on)
   * rather than into BullMQ (a shard it only steals from: its thieves take from BullMQ).
   */
  lane?: boolean;
}

/** After a hold its tenant did not use, no slot is held for that tenant for this long. */
export const FAIR_HOLD_BACKOFF_MS = 1_000;

interface ShardState {
  target: FairShard;
  lookahead: AdaptiveLookahead;
  finished: string[];
  added: string[];
  /** Set while a dispatch round runs; further requests only mark `again`. */
  running: Promise<void> | undefined;
  again: boolean;
  /** The next round also hands out what a crashed dispatcher left in transit (set by the tick). */
  reclaim: boolean;
  /** Jobs waited in the shard's fair queue at the last round: a job start then refills too. */
  waiting: boolean;
  /** Jobs of the shard running in this process (between `started` and `settled`). */
  busy: number;
  /** Jobs taken from the fair queue whose add to BullMQ failed: added again before taking more. */
  unadded: QueuedJob[];
  /** Tenants waiting at the last round: how many, and the first of them by name. */
  waitingCount: number;
  waitingNames: Set<string>;
  /** Jobs of each tenant running in this process. */
  busyBy: Map<string, number>;
  /** Slots held here, per tenant: each resolves when the tenant's next job went to BullMQ. */
  holds: Map<string, (() => void)[]>;
  /** Tenants that let a hold expire, and until when no slot is held for them. */
  declined: Map<string, number>;
}

/**
 * The worker side of fair queuing: whenever a job starts or ends (and on a periodic tick), the
 * shard's fair queue is asked for the next jobs in fair order, which are added to BullMQ (or, for a
 * shard with `lane`, its direct lane) here: up
 * to the lookahead (sized from the shard's consumption rate here and the round time, see
 * {@link AdaptiveLookahead}), or this process's free slots when more (those jobs start at once, so
 * nobody waits behind them). One dispatch runs per shard at a time in a process; requests arriving meanwhile are folded into one more round, so
 * under load a dispatch call serves many completions. A round that added jobs is followed at once
 * by one that confirms them (and tops the queue up again), so in-transit entries do not hold
 * lookahead places longer than an add takes.
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
    /** Each hold's end: its tenant's job came in time (`taken`) or not (`expired`). */
    private readonly onHold: (target: FairShard, outcome: 'taken' | 'expired') => void = () => undefined,
    /** Where jobs of shards with `lane` go. */
    private readonly lane?: ShardLane,
  ) {}

  /** Serves `target`; calls for shards not added are ignored. */
  add(target: FairShard): void {
    this.shards.set(key(target.model, target.shard), {
      target,
      lookahead: new AdaptiveLookahead(target.lookahead, target.maxLookahead ?? target.lookahead),
      finished: [],
      added: [],
      running: undefined,
      again: false,
      reclaim: true,
      waiting: true,
      busy: 0,
      unadded: [],
      waitingCount: 0,
      waitingNames: new Set(),
      busyBy: new Map(),
      holds: new Map(),
      declined: new Map(),
    });
  }

  /**
   * A job of `tenant` ended for good on `model`/`shard` without having run here (e.g. it stalled
   * too often): its running place goes to the next job in fair order.
   */
  finished(model: string, shard: number, tenant: string): void {
    const s = this.shards.get(key(model, shard));
    if (!s) return;
    s.finished.push(tenant);
    this.kick(s);
  }

  /**
   * This process took a job of `model`/`shard` from BullMQ: a place in the lookahead is free.
   * Refilled only while jobs wait in the fair queue (else submissions go to BullMQ directly).
   */
  started(model: string, shard: number, tenant?: string): void {
    const s = this.shards.get(key(model, shard));
    if (!s) return;
    s.busy++;
    if (tenant !== undefined) s.busyBy.set(tenant, (s.busyBy.get(tenant) ?? 0) + 1);
    s.lookahead.started();
    if (s.waiting) this.kick(s);
  }

  /**
   * A job `started` here is over. `countedTenant`: its tenant, when the job ended for good (not
   * retried or handed back) and the tenant's running count included it (the round releases it).
   * Otherwise the job's end refills only while jobs wait: jobs that entered an empty fair queue
   * since the last round are announced by their submitter ({@link waiting}), which saves a dispatch
   * call per job on a shard nobody waits in.
   */
  settled(model: string, shard: number, countedTenant?: string, tenant?: string): void {
    const s = this.shards.get(key(model, shard));
    if (!s) return;
    s.busy = Math.max(0, s.busy - 1);
    if (tenant !== undefined) {
      const left = (s.busyBy.get(tenant) ?? 1) - 1;
      if (left > 0) s.busyBy.set(tenant, left);
      else s.busyBy.delete(tenant);
    }
    if (countedTenant !== undefined) s.finished.push(countedTenant);
    if (countedTenant !== undefined || s.waiting) this.kick(s);
  }

  /**
   * Jobs started to wait in the fair queue of `model`/`shard` (announced on FAIR_WAITING_CHANNEL,
   * e.g. concurrent submissions that found the lookahead full): a round hands them out now, and job
   * starts and ends refill from then on.
   */
  waiting(model: string, shard: number): void {
    const s = this.shards.get(key(model, shard));
    if (!s) return;
    s.waiting = true;
    this.kick(s);
  }

  /**
   * Anticipation, called when a job of `tenant` has its result and before its slot is given back:
   * when other tenants' jobs wait in the shard, none of `tenant`'s do, and `tenant` runs fewer jobs
   * here than an even share of the slots, the slot is held for the tenant's next job for
   * `anticipateMs` (its submission then goes to BullMQ ahead of the queued jobs). A client that sends
   * its next request once the last is answered looks idle for that moment; without the hold, its
   * next job waits for the next slot to free, which under a flood of equal jobs is a whole job's time.
   * Resolves when the tenant's job went to BullMQ or the hold expired (no hold: at once). A tenant
   * that lets a hold expire gets none for {@link FAIR_HOLD_BACKOFF_MS}.
   */
  async anticipate(model: string, shard: number, tenant: string): Promise<void> {
    const s = this.shards.get(key(model, shard));
    const ms = s?.target.anticipateMs ?? 0;
    if (!s || ms <= 0 || this.closed || !this.worthHolding(s, tenant)) return;
    const list = s.holds.get(tenant) ?? [];
    s.holds.set(tenant, list);
    let done = (): void => undefined;
    const forget = (): void => {
      const i = list.indexOf(done);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0 && s.holds.get(tenant) === list) s.holds.delete(tenant);
    };
    // Waiting before the hold is set, so a job taking it at once is not missed.
    const taken = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        forget();
        resolve(false);
      }, ms);
      done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      list.push(done);
    });
    try {
      await this.fair.hold(model, shard, tenant, ms);
    } catch (err) {
      // The job is done either way: a hold that could not be set only gives the slot back now.
      this.onError(err, s.target);
      forget();
      done();
      return;
    }
    const came = await taken;
    this.onHold(s.target, came ? 'taken' : 'expired');
    if (!came) s.declined.set(tenant, performance.now() + FAIR_HOLD_BACKOFF_MS);
  }

  /** A job of `tenant` went to BullMQ through a held slot (FAIR_WAITING_CHANNEL): stop holding. */
  heldTaken(model: string, shard: number, tenant: string): void {
    const s = this.shards.get(key(model, shard));
    const list = s?.holds.get(tenant);
    if (!s || !list) return;
    s.holds.delete(tenant);
    for (const done of list) done();
  }

  private worthHolding(s: ShardState, tenant: string): boolean {
    const capacity = s.target.capacity ?? 0;
    // Only the tenants named by the last round are known; with more waiting, do not guess.
    if (!s.waiting || capacity <= 0 || s.waitingNames.size < s.waitingCount) return false;
    if (s.waitingNames.has(tenant)) return false;
    const until = s.declined.get(tenant);
    if (until !== undefined) {
      if (performance.now() < until) return false;
      s.declined.delete(tenant);
    }
    // This job still counts in busyBy until it is settled.
    const running = (s.busyBy.get(tenant) ?? 1) - 1;
    return running < capacity / (s.waitingCount + 1);
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
    for (const s of this.shards.values())
      for (const t of [...s.holds.keys()]) this.heldTaken(s.target.model, s.target.shard, t);
    await Promise.allSettled([...this.shards.values()].map((s) => s.running));
    await Promise.allSettled(
      [...this.shards.values()]
        .filter((s) => s.added.length > 0 || s.finished.length > 0)
        .map((s) => this.round(s)),
    );
  }

  private refillAll(): void {
    for (const s of this.shards.values()) {
      s.reclaim = true;
      this.kick(s);
    }
  }

  private kick(s: ShardState): void {
    if (this.closed) return;
    if (s.running) {
      s.again = true;
      return;
    }
    s.running = (async () => {
      let failed = false;
      do {
        s.again = false;
        try {
          await this.round(s);
        } catch (err) {
          // What the round held is kept for the next kick (a job ending, or the tick).
          this.onError(err, s.target);
          failed = true;
        }
      } while (!failed && (s.again || s.added.length > 0) && !this.closed);
    })().finally(() => {
      s.running = undefined;
    });
  }

  private async round(s: ShardState): Promise<void> {
    const { model, shard, capacity = 0 } = s.target;
    const t0 = performance.now();
    if (s.unadded.length > 0) {
      // Still in transit under their ids: adding them again cannot duplicate them.
      await this.handOut(s.target, s.unadded);
      s.added.push(...s.unadded.splice(0).map((j) => j.id));
    }
    const finished = s.finished.splice(0);
    const added = s.added.splice(0);
    const reclaim = s.reclaim;
    s.reclaim = false;
    let jobs: QueuedJob[];
    try {
      const target = Math.max(s.lookahead.value, capacity - s.busy);
      const d = await this.fair.dispatch(model, shard, target, finished, added, reclaim);
      jobs = d.jobs;
      s.waiting = d.waitingTenants > 0;
      s.waitingCount = d.waitingTenants;
      s.waitingNames = new Set(d.waitingNames);
    } catch (err) {
      // Not applied: retried with the next round (the running counts must not drift).
      s.finished.unshift(...finished);
      s.added.unshift(...added);
      s.reclaim ||= reclaim;
      throw err;
    }
    if (jobs.length === 0) return;
    try {
      await this.handOut(s.target, jobs);
    } catch (err) {
      s.unadded.push(...jobs);
      throw err;
    }
    s.added.push(...jobs.map((j) => j.id));
    s.lookahead.round(performance.now() - t0);
  }

  /** Adds jobs taken from the fair queue to the shard's direct lane or its BullMQ queue. */
  private async handOut(target: FairShard, jobs: readonly QueuedJob[]): Promise<void> {
    if (target.lane && this.lane) await this.lane.addMany(target.model, target.shard, jobs);
    else await this.queues.enqueueMany(target.model, target.shard, jobs, this.retry);
  }
}

function key(model: string, shard: number): string {
  return `${model}\u0000${shard}`;
}
