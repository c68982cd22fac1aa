import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ErrorCode, HotpathError, type FinishReason } from '@hotpath/contracts';
import type { BatchReport, BatchReporter, ScheduleOptions } from './batch-report';
import { DEFAULT_AGING_MS, priorityRank, sortByPriority } from './priority-order';

/** What one forward did to a sequence: the token it produced (if any) and whether it ended. */
export interface SequenceStep<T> {
  /** The token produced (null when the sampled id ended the sequence, e.g. an EOS). */
  token: T | null;
  /** Set when the sequence ended with this step. */
  finish: FinishReason | null;
}

/**
 * The model side of an {@link IterationScheduler}: runs forwards over the sequences it is given
 * and keeps their KV caches. The scheduler never touches tensors.
 */
export interface SequenceEngine<S, T = unknown> {
  /** Prompt tokens `seq` still needs prefilled (counts against the prefill budget). */
  promptLength(seq: S): number;
  /**
   * Feeds each sequence up to `maxTokens` more prompt tokens (an engine may ignore the bound and
   * prefill whole prompts). One entry per sequence, in order: its first token once its prompt is
   * complete, `null` while it is still mid-prompt (it is then passed to `prefill` again).
   */
  prefill(seqs: readonly S[], maxTokens: number): Promise<(SequenceStep<T> | null)[]>;
  /**
   * One decode step over exactly `seqs`, the running batch in order. When the list differs from
   * the previous call (sequences joined or left) the engine rebuilds its batch cache first.
   */
  decode(seqs: readonly S[]): Promise<SequenceStep<T>[]>;
  /** `seq` left the batch (finished, cancelled, expired or failed): drop its cache. */
  release(seq: S): void;
}

/** Knobs of the iteration-level scheduler (config `batching.continuous`). */
export interface SchedulerPolicy {
  /** Sequences in the running batch at once; 1 = the naive one-sequence-at-a-time behaviour. */
  maxRunningSequences: number;
  /**
   * Prompt tokens prefilled per iteration. A longer prompt is prefilled alone, in chunks of this
   * size with decode steps of the running batch in between (on engines that chunk; others prefill
   * it whole), so a long prompt delays running sequences by one chunk per token, not by its length.
   */
  prefillChunkTokens: number;
  /** Decode steps the running batch gets after a prefill before the next prefill may run (≥ 1). */
  decodeStepsPerPrefill: number;
  /** Waiting sequences count one priority class higher per this many ms waited (default 1 s). */
  agingMs?: number;
}

/** Defaults: 16 sequences, 512 prompt tokens per prefill, prefills and decode steps alternate at most 1:1. */
export const DEFAULT_SCHEDULER_POLICY: SchedulerPolicy = {
  maxRunningSequences: 16,
  prefillChunkTokens: 512,
  decodeStepsPerPrefill: 1,
  agingMs: DEFAULT_AGING_MS,
};

/** Per-sequence hooks, priority, deadline and report tag. */
export interface SequenceOptions<T = unknown, Tag = unknown> extends ScheduleOptions<Tag> {
  /** Called for each token as soon as the step that produced it ends. */
  onToken?: (token: T) => void;
}

/** Clock and reporting of an {@link IterationScheduler}. */
export interface IterationSchedulerOptions<Tag = unknown> {
  /** Clock for deadlines and aging (epoch ms); injectable for tests. */
  now?: () => number;
  /**
   * Told of each prefill forward and each run of decode steps over an unchanged batch, always
   * before any member's promise settles because it left the run.
   */
  onReport?: BatchReporter<Tag>;
}

/** How a sequence was served. */
export interface ScheduledOutcome {
  finishReason: FinishReason;
  /** Submit → start of its prefill (the whole wait when it never ran). */
  batchWaitMs: number;
  /** Duration of the forwards it took part in. */
  inferenceMs: number;
  /** Mean running-batch size over its decode steps (its prefill group size when it had none). */
  meanBatchSize: number;
  /** Submit → its first token (null when none). */
  firstTokenMs: number | null;
}

interface Entry<S, T, Tag> {
  key: number;
  seq: S;
  opts: SequenceOptions<T, Tag>;
  rank: number;
  order: number;
  /** Epoch ms (the scheduler's clock), for aging. */
  arrivedAt: number;
  submittedAt: number;
  prefillAt: number | null;
  prefillSize: number;
  inferenceMs: number;
  batchSum: number;
  decodeSteps: number;
  firstTokenMs: number | null;
  cancelled: boolean;
  resolve: (o: ScheduledOutcome) => void;
  reject: (e: Error) => void;
}

/**
 * Continuous (iteration-level) batching for one replica. Sequences wait in priority order (with
 * aging, as in the micro-batcher) and join the running batch at token boundaries; each iteration
 * runs at most one prefill forward for newcomers (up to `prefillChunkTokens` prompt tokens and
 * `maxRunningSequences` sequences in total), then one decode step over
 * the whole running batch. After a prefill the running batch gets `decodeStepsPerPrefill` decode
 * steps before the next one, so a burst of arrivals delays running sequences by at most one prefill
 * chunk per token. Finished, cancelled and expired sequences leave at the next boundary.
 */
export class IterationScheduler<S, T = unknown, Tag = unknown> {
  private readonly waitingList: Entry<S, T, Tag>[] = [];
  private readonly runningList: Entry<S, T, Tag>[] = [];
  /** A sequence whose prompt is being prefilled in chunks (not running yet). */
  private partial: Entry<S, T, Tag> | null = null;
  private readonly byKey = new Map<number, Entry<S, T, Tag>>();
  private stepsSincePrefill = Infinity;
  private looping = false;
  private closed = false;
  private nextOrder = 0;
  /** The decode run in progress (same running batch since it started). */
  private group: BatchReport<Tag> | null = null;
  private readonly now: () => number;
  private readonly onReport?: BatchReporter<Tag>;
  private readonly agingMs: number;

  constructor(
    private readonly engine: SequenceEngine<S, T>,
    private readonly policy: SchedulerPolicy = DEFAULT_SCHEDULER_POLICY,
    options: IterationSchedulerOptions<Tag> = {},
  ) {
    if (policy.maxRunningSequences < 1 || policy.prefillChunkTokens < 1 || policy.decodeStepsPerPrefill < 1)
      throw new RangeError('scheduler policy values must be ≥ 1');
    this.now = options.now ?? Date.now;
    this.onReport = options.onReport;
    this.agingMs = policy.agingMs ?? DEFAULT_AGING_MS;
  }

  /** Sequences waiting for their prefill. */
  get waiting(): number {
    return this.waitingList.length;
  }

  /** Sequences in the running batch. */
  get running(): number {
    return this.runningList.length;
  }

  /**
   * Sequences submitted and not settled: waiting, in a prefill forward (in neither list above
   * until it ends) or running. What a router balancing replicas must compare: with short
   * generations a sequence spends most of its life in its prefill, so `running + waiting`
   * would call a busy replica idle.
   */
  get load(): number {
    return this.byKey.size;
  }

  /** Queues a sequence; resolves when it finishes (or is cancelled), rejects on expiry or failure. */
  submit(key: number, seq: S, opts: SequenceOptions<T, Tag> = {}): Promise<ScheduledOutcome> {
    if (this.closed) return Promise.reject(new HotpathError(ErrorCode.WorkerShutdown, 'scheduler is closed'));
    if (this.byKey.has(key)) return Promise.reject(new RangeError(`sequence ${key} already submitted`));
    return new Promise((resolve, reject) => {
      const entry: Entry<S, T, Tag> = {
        key,
        seq,
        opts,
        rank: priorityRank(opts.priority),
        order: this.nextOrder++,
        arrivedAt: this.now(),
        submittedAt: performance.now(),
        prefillAt: null,
        prefillSize: 0,
        inferenceMs: 0,
        batchSum: 0,
        decodeSteps: 0,
        firstTokenMs: null,
        cancelled: false,
        resolve,
        reject,
      };
      this.byKey.set(key, entry);
      this.waitingList.push(entry);
      this.kick();
    });
  }

  /** Cancels one sequence: a waiting one leaves now, a running one after the step in flight. */
  cancel(key: number): void {
    const e = this.byKey.get(key);
    if (!e) return;
    e.cancelled = true;
    const i = this.waitingList.indexOf(e);
    if (i >= 0) {
      this.waitingList.splice(i, 1);
      this.finish(e, 'cancelled');
    }
  }

  /**
   * Fails every sequence with `worker_shutdown` and stops. Idempotent. Sequences in a prefill
   * forward fail when it ends (see {@link prefill}).
   */
  close(): void {
    this.closed = true;
    this.endGroup();
    for (const e of this.takeAll()) this.fail(e, shutdownError());
  }

  /** Empties every list (waiting, mid-prefill, running) and returns their entries. */
  private takeAll(): Entry<S, T, Tag>[] {
    const all = [...this.waitingList.splice(0), ...this.runningList.splice(0)];
    if (this.partial) all.push(this.partial);
    this.partial = null;
    return all;
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    this.loop()
      .catch((err: unknown) => {
        // A bug here must not strand callers: fail whoever is left rather than hang them.
        for (const e of this.takeAll()) this.fail(e, asError(err));
      })
      .finally(() => {
        this.looping = false;
        if (!this.closed && (this.waitingList.length > 0 || this.partial)) this.kick();
      });
  }

  private async loop(): Promise<void> {
    while (!this.closed && (this.waitingList.length > 0 || this.runningList.length > 0 || this.partial)) {
      // Token boundary: let abort and submit messages in before deciding who runs.
      await yieldToLoop();
      this.reap();
      const admitted = this.admit();
      if (admitted.length > 0) await this.prefill(admitted);
      this.reap();
      if (this.runningList.length > 0) await this.decode();
    }
    this.endGroup();
  }

  /** Reports the decode run in progress, if any: the running batch is about to change. */
  private endGroup(): void {
    const g = this.group;
    this.group = null;
    if (g) this.onReport?.(g);
  }

  /** Tags of the members that carry one. */
  private tagsOf(entries: readonly Entry<S, T, Tag>[]): Tag[] {
    return entries.flatMap((e) => (e.opts.tag === undefined ? [] : [e.opts.tag]));
  }

  /** Removes cancelled and expired sequences before the next forward. */
  private reap(): void {
    const now = this.now();
    const expired = (e: Entry<S, T, Tag>): boolean =>
      e.opts.deadlineAt !== undefined && e.opts.deadlineAt !== null && e.opts.deadlineAt <= now;
    for (const list of [this.waitingList, this.runningList]) {
      for (let i = list.length - 1; i >= 0; i--) {
        const e = list[i] as Entry<S, T, Tag>;
        if (!e.cancelled && !expired(e)) continue;
        if (list === this.runningList) this.endGroup();
        list.splice(i, 1);
        if (e.cancelled) this.finish(e, 'cancelled');
        else this.fail(e, new HotpathError(ErrorCode.DeadlineExceeded, 'deadline passed during generation'));
      }
    }
    const p = this.partial;
    if (p && (p.cancelled || expired(p))) {
      this.partial = null;
      if (p.cancelled) this.finish(p, 'cancelled');
      else this.fail(p, new HotpathError(ErrorCode.DeadlineExceeded, 'deadline passed during prefill'));
    }
  }

  private admit(): Entry<S, T, Tag>[] {
    const { maxRunningSequences, prefillChunkTokens, decodeStepsPerPrefill } = this.policy;
    if (this.runningList.length > 0 && this.stepsSincePrefill < decodeStepsPerPrefill) return [];
    if (this.partial) return [this.partial];
    sortByPriority(this.waitingList, this.now(), this.agingMs);
    const out: Entry<S, T, Tag>[] = [];
    let tokens = 0;
    while (this.waitingList.length > 0 && this.runningList.length + out.length < maxRunningSequences) {
      const n = this.engine.promptLength((this.waitingList[0] as Entry<S, T, Tag>).seq);
      if (out.length > 0 && tokens + n > prefillChunkTokens) break;
      out.push(this.waitingList.shift() as Entry<S, T, Tag>);
      tokens += n;
    }
    return out;
  }

  private async prefill(group: Entry<S, T, Tag>[]): Promise<void> {
    this.endGroup();
    const startedAt = this.now();
    const t = performance.now();
    for (const e of group) {
      e.prefillAt ??= t;
      e.prefillSize = group.length;
    }
    this.stepsSincePrefill = 0;
    let steps: (SequenceStep<T> | null)[];
    const report = (ms: number, extra: Partial<BatchReport<Tag>>): void =>
      this.onReport?.({
        kind: 'prefill',
        tags: this.tagsOf(group),
        size: group.length,
        startedAt,
        endedAt: startedAt + ms,
        forwards: 1,
        ...extra,
      });
    try {
      steps = await this.engine.prefill(
        group.map((e) => e.seq),
        this.policy.prefillChunkTokens,
      );
    } catch (err) {
      report(performance.now() - t, { error: asError(err).message });
      if (this.partial && group.includes(this.partial)) this.partial = null;
      for (const e of group) this.fail(e, asError(err));
      return;
    }
    const ms = performance.now() - t;
    report(ms, { outputTokens: steps.filter((st) => st?.token).length });
    if (this.closed) {
      // close() ran during the forward: a group admitted from the waiting list was in no list it
      // empties, and joining the running batch now would leave its callers waiting forever (the
      // loop stops). A chunked prompt (`partial`) was failed by close() already.
      for (const e of group) if (this.byKey.get(e.key) === e) this.fail(e, shutdownError());
      return;
    }
    group.forEach((e, i) => {
      e.inferenceMs += ms;
      const step = steps[i];
      if (step === null) {
        this.partial = e;
        return;
      }
      if (this.partial === e) this.partial = null;
      this.runningList.push(e);
      this.apply(e, step);
    });
  }

  private async decode(): Promise<void> {
    const batch = [...this.runningList];
    const startedAt = this.now();
    const t = performance.now();
    let steps: SequenceStep<T>[];
    try {
      steps = await this.engine.decode(batch.map((e) => e.seq));
    } catch (err) {
      this.endGroup();
      this.onReport?.({
        kind: 'decode',
        tags: this.tagsOf(batch),
        size: batch.length,
        startedAt,
        endedAt: this.now(),
        forwards: 1,
        error: asError(err).message,
      });
      for (const e of batch) {
        this.runningList.splice(this.runningList.indexOf(e), 1);
        this.fail(e, asError(err));
      }
      return;
    }
    this.stepsSincePrefill++;
    const ms = performance.now() - t;
    if (this.onReport) {
      this.group ??= {
        kind: 'decode',
        tags: this.tagsOf(batch),
        size: batch.length,
        startedAt,
        endedAt: 0,
        forwards: 0,
        outputTokens: 0,
      };
      this.group.forwards++;
      this.group.endedAt = startedAt + ms;
      this.group.outputTokens = (this.group.outputTokens ?? 0) + steps.filter((st) => st.token).length;
      // Someone leaves after this step: the group ends here, before their promise settles.
      if (steps.length !== batch.length || steps.some((st) => st.finish)) this.endGroup();
    }
    batch.forEach((e, i) => {
      e.inferenceMs += ms;
      e.batchSum += batch.length;
      e.decodeSteps++;
      this.apply(e, steps[i]);
    });
  }

  private apply(e: Entry<S, T, Tag>, step: SequenceStep<T> | undefined): void {
    if (!step) {
      this.runningList.splice(this.runningList.indexOf(e), 1);
      this.fail(e, new HotpathError(ErrorCode.Internal, 'engine returned too few steps'));
      return;
    }
    if (step.token) {
      e.firstTokenMs ??= performance.now() - e.submittedAt;
      e.opts.onToken?.(step.token);
    }
    if (step.finish) {
      this.runningList.splice(this.runningList.indexOf(e), 1);
      this.finish(e, step.finish);
    }
  }

  private outcome(e: Entry<S, T, Tag>, finishReason: FinishReason): ScheduledOutcome {
    return {
      finishReason,
      batchWaitMs: (e.prefillAt ?? performance.now()) - e.submittedAt,
      inferenceMs: e.inferenceMs,
      meanBatchSize: e.decodeSteps > 0 ? e.batchSum / e.decodeSteps : e.prefillSize,
      firstTokenMs: e.firstTokenMs,
    };
  }

  private finish(e: Entry<S, T, Tag>, reason: FinishReason): void {
    this.byKey.delete(e.key);
    if (e.prefillAt !== null) this.engine.release(e.seq);
    e.resolve(this.outcome(e, reason));
  }

  private fail(e: Entry<S, T, Tag>, err: Error): void {
    this.byKey.delete(e.key);
    if (e.prefillAt !== null) this.engine.release(e.seq);
    e.reject(err);
  }
}

function shutdownError(): HotpathError {
  return new HotpathError(ErrorCode.WorkerShutdown, 'replica shutting down');
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
