import { performance } from 'node:perf_hooks';
import {
  ErrorCode,
  HotpathError,
  type EmbedResult,
  type GenerateResult,
  type ModelConfig,
  type QueuedEmbedJob,
  type QueuedGenerateJob,
} from '@hotpath/contracts';
import { Attr } from '@hotpath/telemetry';
import { MicroBatcher, type BatchOutcome } from '../batching/micro-batcher';
import type { BackendOutput, InferenceBackend, RunContext } from './inference-backend';
import { executionProvider } from './traced-backend';
import {
  generationResult,
  runSimBatch,
  type SimBatchInfo,
  type SimEmbedWork,
  type SimGenerateWork,
  type SimOutput,
  type SimWork,
} from './sim-batch';
import { countWords, planSimGeneration } from './sim-model';

/**
 * Items that may wait in the sim batcher. BullMQ concurrency bounds what reaches it long before
 * this; the bound only guards against a misconfiguration.
 */
const MAX_BUFFERED = 100_000;

/** The micro-batching policy of a sim model from its config (exported for tests and docs). */
export function simBatchPolicy(config: ModelConfig): {
  maxBatchSize: number;
  maxQueueDelayMs: number;
  maxConcurrentBatches: number;
} {
  const { batching } = config;
  return batching.enabled
    ? {
        maxBatchSize: batching.max_batch_size,
        maxQueueDelayMs: batching.max_queue_delay_ms,
        maxConcurrentBatches: config.replicas,
      }
    : // batching off: the naive design, one job per model call, on the same replica slots.
      { maxBatchSize: 1, maxQueueDelayMs: 0, maxConcurrentBatches: config.replicas };
}

/**
 * The `sim` backend: a load-testing feature, not a stand-in. It burns no CPU; each model execution
 * takes `base_ms + per_item_ms * batch_size` of wall-clock time on one of `replicas` virtual slots,
 * so a cluster can be load-tested for queueing, batching, priorities, backpressure and scaling
 * without a model.
 *
 * Both tasks go through one {@link MicroBatcher} (`batching.max_batch_size`,
 * `batching.max_queue_delay_ms`, one concurrent batch per replica; a batch may mix generate and embed
 * jobs, each job is one item). With `batching.enabled: false` every batch holds one job. When no
 * batch runs, a job starts at once (an idle model adds no batching delay).
 *
 * - generate: deterministic word-like tokens from sha256(prompt + seed) in a 32000-token vocabulary,
 *   `max_tokens` of them (model `default_max_tokens` when unset), streamed through `onToken` evenly
 *   over its batch's latency window; honours `stop` sequences; an abort ends it at once with
 *   `cancelled` (its slot stays busy until the window ends, as a real batch would).
 * - embed: one deterministic L2-normalised vector of `sim.embedding_dim` values per text.
 *
 * Outputs depend only on the request, never on batching. Usage counts whitespace-separated words as
 * prompt tokens.
 */
export class SimBackend implements InferenceBackend {
  readonly model: string;
  /** Sim output depends only on the request and the embedding width; latency settings do not count. */
  readonly digest: string;
  private closed = false;
  private batcher: MicroBatcher<SimWork, SimOutput>;
  private stop = new AbortController();

  constructor(private readonly config: ModelConfig) {
    this.model = config.name;
    this.digest = `sim-v1-d${config.sim.embedding_dim}`;
    this.batcher = this.createBatcher();
  }

  async start(): Promise<void> {
    if (this.closed) {
      this.stop = new AbortController();
      this.batcher = this.createBatcher();
    }
    this.closed = false;
  }

  async close(): Promise<void> {
    this.closed = true;
    // Running batches hold only virtual slots: end their windows now instead of waiting them out.
    this.stop.abort();
    await this.batcher.shutdown();
  }

  async generate(job: QueuedGenerateJob, ctx: RunContext): Promise<BackendOutput<GenerateResult>> {
    this.assertOpen();
    const submittedAt = performance.now();
    const maxTokens = job.params.max_tokens ?? this.config.default_max_tokens;
    const work: SimGenerateWork = {
      kind: 'generate',
      plan: planSimGeneration(job.input.prompt, job.params.seed, maxTokens, job.params.stop),
      signal: ctx.signal,
      onToken: ctx.onToken,
      emitted: 0,
      emittedChars: 0,
    };
    try {
      await this.ride(work, job, ctx);
    } catch (err) {
      // Cancelled before its batch started: an empty cancelled generation, as when cut short.
      if (!ctx.signal.aborted) throw err;
    }
    return {
      result: generationResult(work),
      usage: { prompt_tokens: countWords(job.input.prompt), completion_tokens: work.emitted },
      ...measured(work.batch, submittedAt),
    };
  }

  async embed(job: QueuedEmbedJob, ctx: RunContext): Promise<BackendOutput<EmbedResult>> {
    this.assertOpen();
    const submittedAt = performance.now();
    const work: SimEmbedWork = { kind: 'embed', texts: job.input.texts, dim: this.config.sim.embedding_dim };
    let outcome: BatchOutcome<SimOutput> | undefined;
    try {
      outcome = await this.ride(work, job, ctx);
    } catch (err) {
      if (!ctx.signal.aborted) throw err;
    }
    if (!outcome || outcome.output.kind !== 'embed' || ctx.signal.aborted) {
      throw new HotpathError(ErrorCode.Cancelled, `embedding on "${this.model}" aborted`);
    }
    return {
      result: outcome.output.result,
      usage: { prompt_tokens: countWords(job.input.texts.join(' ')), completion_tokens: 0 },
      ...measured(work.batch, submittedAt),
    };
  }

  /**
   * Submits one job to the batcher and resolves when its batch is done, or as soon as the job is
   * aborted (its batch runs on; the job does not wait for it). Undefined after an abort.
   */
  private async ride(
    work: SimWork,
    job: QueuedGenerateJob | QueuedEmbedJob,
    { signal, trace }: RunContext,
  ): Promise<BatchOutcome<SimOutput> | undefined> {
    const done = this.batcher.submit(work, {
      priority: job.priority,
      deadlineAt: job.deadline_at,
      signal,
      trace,
    });
    const aborted = abortPromise(signal);
    try {
      return await Promise.race([done, aborted.promise]);
    } finally {
      aborted.dispose();
      // The batch settles later when the abort won; its outcome is of no use then.
      done.catch(() => undefined);
    }
  }

  private createBatcher(): MicroBatcher<SimWork, SimOutput> {
    return new MicroBatcher<SimWork, SimOutput>({
      ...simBatchPolicy(this.config),
      maxBuffered: MAX_BUFFERED,
      flushWhenIdle: true,
      // The batch span is the model execution: one simulated call for the whole batch.
      spanName: `batch ${this.model}`,
      spanAttributes: {
        [Attr.genAiProvider]: 'hotpath',
        [Attr.genAiRequestModel]: this.model,
        [Attr.executionProvider]: executionProvider(this.config),
      },
      usage: (outputs) => ({
        outputTokens: outputs.reduce((n, o) => n + (o.kind === 'generate' ? o.result.tokens.length : 0), 0),
      }),
      run: (items) => runSimBatch(this.config.sim, items, this.stop.signal),
    });
  }

  private assertOpen(): void {
    if (this.closed)
      throw new HotpathError(ErrorCode.WorkerShutdown, `sim backend "${this.model}" is closed`);
  }
}

/** Batch wait and execution time of a job, from its batch (zeros when it never got into one). */
function measured(
  batch: SimBatchInfo | undefined,
  submittedAt: number,
): { batchWaitMs: number; inferenceMs: number; batchSize: number } {
  const now = performance.now();
  if (!batch) return { batchWaitMs: now - submittedAt, inferenceMs: 0, batchSize: 0 };
  return {
    batchWaitMs: Math.max(0, batch.startedAt - submittedAt),
    inferenceMs: now - batch.startedAt,
    batchSize: batch.size,
  };
}

/** A promise that resolves with undefined when `signal` aborts, and a way to drop the listener. */
function abortPromise(signal: AbortSignal): { promise: Promise<undefined>; dispose: () => void } {
  let dispose = (): void => undefined;
  const promise = new Promise<undefined>((resolve) => {
    if (signal.aborted) {
      resolve(undefined);
      return;
    }
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    dispose = () => signal.removeEventListener('abort', onAbort);
  });
  return { promise, dispose };
}
