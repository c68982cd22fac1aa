import { ErrorCode, HotpathError, type Priority } from '@hotpath/contracts';
import { Attr, ROOT_CONTEXT, linkTo, withSpan, type Context, type Link } from '@hotpath/telemetry';

/** Runs one batch: one output (or per-item Error) per input, in order. A thrown error fails the whole batch. */
export type BatchRunner<I, O> = (inputs: readonly I[]) => Promise<readonly (O | Error)[]>;

export interface MicroBatcherOptions<I, O> {
  /** Flush as soon as this many items wait. */
  maxBatchSize: number;
  /** Flush at most this long after the first item of a batch arrived (0 = never wait). */
  maxQueueDelayMs: number;
  /** Batches that may run at once (one per replica). */
  maxConcurrentBatches: number;
  /** Items that may wait; beyond it `submit` rejects with `queue_full`. */
  maxBuffered: number;
  /**
   * Anti-starvation: every `agingMs` an item waits counts as one priority class higher, so a steady
   * stream of `high` work delays `low` work by at most about 2 × agingMs.
   */
  agingMs?: number;
  /**
   * Dispatch at once when no batch is running instead of waiting up to `maxQueueDelayMs` for company:
   * an idle model then adds no batching delay, and batches still form while a batch runs (measured:
   * a 5 ms window cost tiny-embed requests at concurrency 1 about 60 % of their latency).
   */
  flushWhenIdle?: boolean;
  /** Name of the span around each batch (e.g. `batch tiny-embed`); its links point at every member job. */
  spanName?: string;
  /** Extra attributes for the batch span (model, replica, ...). */
  spanAttributes?: Record<string, string | number>;
  /** Token usage of a batch's outputs, recorded on its span (`gen_ai.usage.*`). */
  usage?: (outputs: readonly O[]) => { inputTokens?: number; outputTokens?: number };
  run: BatchRunner<I, O>;
}

/** What `submit` resolves with: the item's output and how it was served. */
export interface BatchOutcome<O> {
  output: O;
  /** Time between submit and the start of the batch that served the item. */
  batchWaitMs: number;
  batchSize: number;
  /** Duration of the batch run that served the item. */
  runMs: number;
}

export interface SubmitOptions {
  priority?: Priority;
  /** Epoch ms after which the item leaves with `deadline_exceeded` instead of running. */
  deadlineAt?: number | null;
  /** Aborting before the item's batch starts removes it with `cancelled`. */
  signal?: AbortSignal;
  /** The submitter's trace context: the batch span links to it. */
  trace?: Context;
}

interface Pending<I, O> {
  input: I;
  rank: number;
  seq: number;
  arrivedAt: number;
  deadlineAt: number | null;
  signal?: AbortSignal;
  /** The submitter's trace context: the batch span links to it. */
  ctx: Context;
  onAbort?: () => void;
  resolve: (o: BatchOutcome<O>) => void;
  reject: (e: Error) => void;
}

const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/**
 * A framework-free dynamic batcher: collects items until `maxBatchSize` or `maxQueueDelayMs` after
 * the first waiting item, whichever comes first, and runs them together on a free replica slot.
 * When every slot is busy items keep accumulating, so batches grow exactly when the model is the
 * bottleneck; an idle model with a lone item waits no longer than `maxQueueDelayMs`.
 * Items are taken highest priority first (with aging), expired and cancelled items leave before they
 * run, and a per-item Error from the runner fails only that item.
 */
export class MicroBatcher<I, O> {
  private readonly buffer: Pending<I, O>[] = [];
  private running = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private idle: (() => void)[] = [];
  private readonly agingMs: number;

  constructor(private readonly opts: MicroBatcherOptions<I, O>) {
    if (opts.maxBatchSize < 1 || opts.maxConcurrentBatches < 1)
      throw new RangeError('batch size and concurrency must be ≥ 1');
    this.agingMs = opts.agingMs ?? 1000;
  }

  /** Items waiting for a batch. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Batches running now. */
  get active(): number {
    return this.running;
  }

  submit(input: I, options: SubmitOptions = {}): Promise<BatchOutcome<O>> {
    if (this.closed)
      return Promise.reject(new HotpathError(ErrorCode.WorkerShutdown, 'batcher is shut down'));
    if (this.buffer.length >= this.opts.maxBuffered) {
      return Promise.reject(
        new HotpathError(ErrorCode.QueueFull, `batch buffer full (${this.opts.maxBuffered})`),
      );
    }
    if (options.signal?.aborted) return Promise.reject(cancelled());
    return new Promise<BatchOutcome<O>>((resolve, reject) => {
      const item: Pending<I, O> = {
        input,
        rank: RANK[options.priority ?? 'normal'],
        seq: this.seq++,
        arrivedAt: Date.now(),
        deadlineAt: options.deadlineAt ?? null,
        signal: options.signal,
        ctx: options.trace ?? ROOT_CONTEXT,
        resolve,
        reject,
      };
      if (options.signal) {
        item.onAbort = () => {
          const i = this.buffer.indexOf(item);
          if (i >= 0) {
            this.buffer.splice(i, 1);
            reject(cancelled());
          }
        };
        options.signal.addEventListener('abort', item.onAbort, { once: true });
      }
      this.buffer.push(item);
      this.pump();
    });
  }

  /** Stops taking items, fails waiting ones with `worker_shutdown`, waits for running batches. Idempotent. */
  async shutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const item of this.buffer.splice(0))
      this.settle(item, new HotpathError(ErrorCode.WorkerShutdown, 'worker shutting down'));
    if (this.running > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  private pump(): void {
    while (this.running < this.opts.maxConcurrentBatches && this.buffer.length > 0) {
      const oldest = Math.min(...this.buffer.map((p) => p.arrivedAt));
      const waited = Date.now() - oldest;
      const idle = this.opts.flushWhenIdle === true && this.running === 0;
      if (!idle && this.buffer.length < this.opts.maxBatchSize && waited < this.opts.maxQueueDelayMs) {
        this.arm(this.opts.maxQueueDelayMs - waited);
        return;
      }
      this.dispatch(this.take());
    }
  }

  private arm(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, ms);
  }

  /** Removes up to maxBatchSize live items, best effective priority first; expired ones leave with an error. */
  private take(): Pending<I, O>[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    const effective = (p: Pending<I, O>): number => p.rank - Math.floor((now - p.arrivedAt) / this.agingMs);
    this.buffer.sort((a, b) => effective(a) - effective(b) || a.seq - b.seq);
    const batch: Pending<I, O>[] = [];
    while (batch.length < this.opts.maxBatchSize && this.buffer.length > 0) {
      const item = this.buffer.shift() as Pending<I, O>;
      if (item.deadlineAt !== null && item.deadlineAt <= now) {
        this.settle(
          item,
          new HotpathError(ErrorCode.DeadlineExceeded, 'deadline passed before the batch ran'),
        );
        continue;
      }
      batch.push(item);
    }
    return batch;
  }

  private dispatch(batch: Pending<I, O>[]): void {
    if (batch.length === 0) return;
    this.running++;
    const startedAt = Date.now();
    for (const item of batch) if (item.onAbort) item.signal?.removeEventListener('abort', item.onAbort);
    const done = (outs: readonly (O | Error)[] | Error): void => {
      const runMs = Date.now() - startedAt;
      batch.forEach((item, i) => {
        const out = outs instanceof Error ? outs : outs[i];
        if (out instanceof Error) item.reject(out);
        else if (out === undefined)
          item.reject(
            new HotpathError(
              ErrorCode.Internal,
              `batch runner returned too few outputs for ${batch.length} inputs`,
            ),
          );
        else
          item.resolve({
            output: out,
            batchWaitMs: startedAt - item.arrivedAt,
            batchSize: batch.length,
            runMs,
          });
      });
      this.running--;
      if (this.running === 0 && this.closed) for (const r of this.idle.splice(0)) r();
      if (!this.closed) this.pump();
    };
    const links = batch.map((b) => linkTo(b.ctx)).filter((l): l is Link => l !== undefined);
    // One span per batch, a root linked to every member job's span: a batch serves many traces at
    // once, so no single job's trace may own it (OpenTelemetry's batch-processing pattern).
    const promise = withSpan(
      this.opts.spanName ?? 'batch',
      {
        parent: ROOT_CONTEXT,
        links,
        attributes: {
          [Attr.messagingBatchCount]: batch.length,
          [Attr.batchSize]: batch.length,
          ...this.opts.spanAttributes,
        },
      },
      async (span) => {
        const outputs = await this.opts.run(batch.map((b) => b.input));
        const usage = this.opts.usage?.(outputs.filter((o): o is O => !(o instanceof Error)));
        if (usage?.inputTokens !== undefined) span.setAttribute(Attr.genAiInputTokens, usage.inputTokens);
        if (usage?.outputTokens !== undefined) span.setAttribute(Attr.genAiOutputTokens, usage.outputTokens);
        return outputs;
      },
    );
    promise.then(done, (err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
  }

  private settle(item: Pending<I, O>, err: Error): void {
    if (item.onAbort) item.signal?.removeEventListener('abort', item.onAbort);
    item.reject(err);
  }
}

function cancelled(): HotpathError {
  return new HotpathError(ErrorCode.Cancelled, 'cancelled before its batch ran');
}
