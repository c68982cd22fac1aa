import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import type { FinishReason, GeneratedToken } from '../generation/generator';
import type { TokenStep } from '../generation/sequence-state';

/**
 * The model side of an {@link IterationScheduler}: runs forwards over the sequences it is given
 * and keeps their KV caches. The scheduler never touches tensors.
 */
export interface SequenceEngine<S> {
  /** Prompt tokens `seq` still needs prefilled (counts against the prefill budget). */
  promptLength(seq: S): number;
  /**
   * Feeds each sequence up to `maxTokens` more prompt tokens (an engine may ignore the bound and
   * prefill whole prompts). One entry per sequence, in order: its first token once its prompt is
   * complete, `null` while it is still mid-prompt (it is then passed to `prefill` again).
   */
  prefill(seqs: readonly S[], maxTokens: number): Promise<(TokenStep | null)[]>;
  /**
   * One decode step over exactly `seqs`, the running batch in order. When the list differs from
   * the previous call (sequences joined or left) the engine rebuilds its batch cache first.
   */
  decode(seqs: readonly S[]): Promise<TokenStep[]>;
  /** `seq` left the batch (finished, cancelled, expired or failed): drop its cache. */
  release(seq: S): void;
}

/** Knobs of the iteration-level scheduler. */
export interface SchedulerPolicy {
  /** Sequences in the running batch at once; 1 = the naive one-sequence-at-a-time behaviour. */
  maxBatchSize: number;
  /**
   * Prompt tokens prefilled per iteration. A longer prompt is prefilled alone, in chunks of this
   * size with decode steps of the running batch in between (on engines that chunk; others prefill
   * it whole), so a long prompt delays running sequences by one chunk per token, not by its length.
   */
  maxPrefillTokens: number;
  /** Decode steps the running batch gets after a prefill before the next prefill may run (≥ 1). */
  decodeStepsPerPrefill: number;
}

/** Defaults: 16 sequences, 512 prompt tokens per prefill, prefills and decode steps alternate at most 1:1. */
export const DEFAULT_SCHEDULER_POLICY: SchedulerPolicy = {
  maxBatchSize: 16,
  maxPrefillTokens: 512,
  decodeStepsPerPrefill: 1,
};

/** Per-sequence hooks and limits. */
export interface ScheduleOptions {
  /** Called for each token as soon as the step that produced it ends. */
  onToken?: (token: GeneratedToken) => void;
  /** Epoch ms; a sequence still waiting or running then leaves with `deadline_exceeded`. */
  deadlineAt?: number | null;
}

/**
 * A run of forwards over one unchanged set of sequences: a prefill of newcomers, or consecutive
 * decode steps of the running batch until a sequence joins or leaves. Reported for tracing (one
 * batch span per group, linked to every member's job).
 */
export interface IterationGroup {
  kind: 'prefill' | 'decode';
  /** Keys of the member sequences. */
  keys: number[];
  /** Epoch ms of the first forward's start and the last forward's end. */
  startedAt: number;
  endedAt: number;
  forwards: number;
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

interface Entry<S> {
  key: number;
  seq: S;
  opts: ScheduleOptions;
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
 * Continuous (iteration-level) batching for one replica. Sequences wait FIFO and join the running
 * batch at token boundaries; each iteration runs at most one prefill forward for newcomers (up to
 * `maxPrefillTokens` prompt tokens and `maxBatchSize` sequences in total), then one decode step over
 * the whole running batch. After a prefill the running batch gets `decodeStepsPerPrefill` decode
 * steps before the next one, so a burst of arrivals delays running sequences by at most one prefill
 * chunk per token. Finished, cancelled and expired sequences leave at the next boundary.
 */
export class IterationScheduler<S> {
  private readonly waitingList: Entry<S>[] = [];
  private readonly runningList: Entry<S>[] = [];
  /** A sequence whose prompt is being prefilled in chunks (not running yet). */
  private partial: Entry<S> | null = null;
  private readonly byKey = new Map<number, Entry<S>>();
  private stepsSincePrefill = Infinity;
  private looping = false;
  private closed = false;
  /** The decode group in progress (same running batch since it started). */
  private group: IterationGroup | null = null;

  constructor(
    private readonly engine: SequenceEngine<S>,
    private readonly policy: SchedulerPolicy = DEFAULT_SCHEDULER_POLICY,
    /** Clock for deadlines (epoch ms); injectable for tests. */
    private readonly now: () => number = Date.now,
    /**
     * Told of each finished {@link IterationGroup}, always before any member's promise settles
     * because it left the group.
     */
    private readonly onGroup?: (group: IterationGroup) => void,
  ) {
    if (policy.maxBatchSize < 1 || policy.maxPrefillTokens < 1 || policy.decodeStepsPerPrefill < 1)
      throw new RangeError('scheduler policy values must be ≥ 1');
  }

  /** Sequences waiting for their prefill. */
  get waiting(): number {
    return this.waitingList.length;
  }

  /** Sequences in the running batch. */
  get running(): number {
    return this.runningList.length;
  }

  /** Queues a sequence; resolves when it finishes (or is cancelled), rejects on expiry or failure. */
  submit(key: number, seq: S, opts: ScheduleOptions = {}): Promise<ScheduledOutcome> {
    if (this.closed) return Promise.reject(new HotpathError(ErrorCode.WorkerShutdown, 'scheduler is closed'));
    if (this.byKey.has(key)) return Promise.reject(new RangeError(`sequence ${key} already submitted`));
    return new Promise((resolve, reject) => {
      const entry: Entry<S> = {
        key,
        seq,
        opts,
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

  /** Fails every sequence with `worker_shutdown` and stops. Idempotent. */
  close(): void {
    this.closed = true;
    const err = new HotpathError(ErrorCode.WorkerShutdown, 'replica shutting down');
    this.endGroup();
    for (const e of this.takeAll()) this.fail(e, err);
  }

  /** Empties every list (waiting, mid-prefill, running) and returns their entries. */
  private takeAll(): Entry<S>[] {
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

  /** Reports the decode group in progress, if any: the running batch is about to change. */
  private endGroup(): void {
    const g = this.group;
    this.group = null;
    if (g) this.onGroup?.(g);
  }

  /** Removes cancelled and expired sequences before the next forward. */
  private reap(): void {
    const now = this.now();
    const expired = (e: Entry<S>): boolean =>
      e.opts.deadlineAt !== undefined && e.opts.deadlineAt !== null && e.opts.deadlineAt <= now;
    for (const list of [this.waitingList, this.runningList]) {
      for (let i = list.length - 1; i >= 0; i--) {
        const e = list[i] as Entry<S>;
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

  private admit(): Entry<S>[] {
    const { maxBatchSize, maxPrefillTokens, decodeStepsPerPrefill } = this.policy;
    if (this.runningList.length > 0 && this.stepsSincePrefill < decodeStepsPerPrefill) return [];
    if (this.partial) return [this.partial];
    const out: Entry<S>[] = [];
    let tokens = 0;
    while (this.waitingList.length > 0 && this.runningList.length + out.length < maxBatchSize) {
      const n = this.engine.promptLength((this.waitingList[0] as Entry<S>).seq);
      if (out.length > 0 && tokens + n > maxPrefillTokens) break;
      out.push(this.waitingList.shift() as Entry<S>);
      tokens += n;
    }
    return out;
  }

  private async prefill(group: Entry<S>[]): Promise<void> {
    this.endGroup();
    const startedAt = this.now();
    const t = performance.now();
    for (const e of group) {
      e.prefillAt ??= t;
      e.prefillSize = group.length;
    }
    this.stepsSincePrefill = 0;
    let steps: (TokenStep | null)[];
    try {
      steps = await this.engine.prefill(
        group.map((e) => e.seq),
        this.policy.maxPrefillTokens,
      );
    } catch (err) {
      if (this.partial && group.includes(this.partial)) this.partial = null;
      for (const e of group) this.fail(e, asError(err));
      return;
    }
    const ms = performance.now() - t;
    this.onGroup?.({
      kind: 'prefill',
      keys: group.map((e) => e.key),
      startedAt,
      endedAt: startedAt + ms,
      forwards: 1,
    });
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
    let steps: TokenStep[];
    try {
      steps = await this.engine.decode(batch.map((e) => e.seq));
    } catch (err) {
      this.endGroup();
      for (const e of batch) {
        this.runningList.splice(this.runningList.indexOf(e), 1);
        this.fail(e, asError(err));
      }
      return;
    }
    this.stepsSincePrefill++;
    const ms = performance.now() - t;
    if (this.onGroup) {
      this.group ??= { kind: 'decode', keys: batch.map((e) => e.key), startedAt, endedAt: 0, forwards: 0 };
      this.group.forwards++;
      this.group.endedAt = startedAt + ms;
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

  private apply(e: Entry<S>, step: TokenStep | undefined): void {
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

  private outcome(e: Entry<S>, finishReason: FinishReason): ScheduledOutcome {
    return {
      finishReason,
      batchWaitMs: (e.prefillAt ?? performance.now()) - e.submittedAt,
      inferenceMs: e.inferenceMs,
      meanBatchSize: e.decodeSteps > 0 ? e.batchSum / e.decodeSteps : e.prefillSize,
      firstTokenMs: e.firstTokenMs,
    };
  }

  private finish(e: Entry<S>, reason: FinishReason): void {
    this.byKey.delete(e.key);
    if (e.prefillAt !== null) this.engine.release(e.seq);
    e.resolve(this.outcome(e, reason));
  }

  private fail(e: Entry<S>, err: Error): void {
    this.byKey.delete(e.key);
    if (e.prefillAt !== null) this.engine.release(e.seq);
    e.reject(err);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
