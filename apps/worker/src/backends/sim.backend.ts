import { performance } from 'node:perf_hooks';
import { IterationScheduler, MicroBatcher } from '@hotpath/batching';
import {
  ErrorCode,
  HotpathError,
  type EmbedResult,
  type GenerateResult,
  type ModelConfig,
  type QueuedEmbedJob,
  type QueuedGenerateJob,
} from '@hotpath/contracts';
import { Attr, tracingEnabled, type Context } from '@hotpath/telemetry';
import { batchSpans } from './batch-spans';
import { continuousPolicy, microBatchPolicy } from './batching-policy';
import { modelReplicas } from './model-replicas';
import type { BackendOutput, InferenceBackend, RunContext, TokenEvent } from './inference-backend';
import { runSimBatch, type SimBatchInfo, type SimEmbedWork } from './sim-batch';
import { SimSequenceEngine, simSequence, type SimSequence } from './sim-engine';
import { countWords, planSimGeneration } from './sim-model';
import { executionProvider } from './traced-backend';

/**
 * Items that may wait in the sim embed batcher. BullMQ concurrency bounds what reaches it long
 * before this; the bound only guards against a misconfiguration.
 */
const MAX_BUFFERED = 100_000;

type SimScheduler = IterationScheduler<SimSequence, TokenEvent, Context>;

/**
 * The `sim` backend: a load-testing feature, not a stand-in. It burns no CPU; every forward takes
 * `base_ms + per_item_ms × rows` of wall-clock time (plus `prefill_per_token_ms` per prompt word a
 * prefill feeds), so a cluster can be load-tested for queueing, batching, priorities, backpressure
 * and scaling without a model. It batches through the same schedulers as the onnx backend:
 *
 * - generate: continuous batching, one `IterationScheduler` per virtual replica over a
 *   {@link SimSequenceEngine} (`batching.continuous`): a job joins its replica's running batch at
 *   the next token boundary and gets one token per decode step. Deterministic word-like tokens from
 *   sha256(prompt + seed) in a 32000-token vocabulary, `max_tokens` of them (model
 *   `default_max_tokens` when unset); honours `stop` sequences. An abort returns at once with
 *   `cancelled` and the tokens streamed so far (the sequence leaves its batch at the next token
 *   boundary, as on a real replica).
 * - embed: one `MicroBatcher` (`batching.micro`, one batch per replica slot, each job one item):
 *   one deterministic L2-normalised vector of `sim.embedding_dim` values per text.
 *
 * With `batching.enabled: false` each replica runs one sequence, and each embed batch one job.
 * Outputs depend only on the request, never on batching. Usage counts whitespace-separated words as
 * prompt tokens.
 */
export class SimBackend implements InferenceBackend {
  readonly model: string;
  /** Sim output depends only on the request and the embedding width; latency settings do not count. */
  readonly digest: string;
  private closed = false;
  private stop = new AbortController();
  private embedBatcher: MicroBatcher<SimEmbedWork, EmbedResult, Context>;
  private replicas: SimScheduler[];
  private nextKey = 1;

  constructor(private readonly config: ModelConfig) {
    this.model = config.name;
    this.digest = `sim-v1-d${config.sim.embedding_dim}`;
    this.embedBatcher = this.createEmbedBatcher();
    this.replicas = this.createReplicas();
  }

  async start(): Promise<void> {
    if (this.closed) {
      this.stop = new AbortController();
      this.embedBatcher = this.createEmbedBatcher();
      this.replicas = this.createReplicas();
    }
    this.closed = false;
  }

  async close(): Promise<void> {
    this.closed = true;
    // Running forwards hold only virtual slots: end them now instead of waiting them out.
    this.stop.abort();
    for (const r of this.replicas) r.close();
    await this.embedBatcher.shutdown();
  }

  async generate(job: QueuedGenerateJob, ctx: RunContext): Promise<BackendOutput<GenerateResult>> {
    this.assertOpen();
    const submittedAt = performance.now();
    const maxTokens = job.params.max_tokens ?? this.config.default_max_tokens;
    const plan = planSimGeneration(job.input.prompt, job.params.seed, maxTokens, job.params.stop);
    const promptTokens = countWords(job.input.prompt);
    // What the client got: tokens streamed before an abort (none come after it).
    const streamed = { tokens: 0, chars: 0 };
    const scheduler = this.leastLoaded();
    const key = this.nextKey++;
    const done = scheduler.submit(key, simSequence(plan, promptTokens), {
      priority: job.priority,
      deadlineAt: job.deadline_at,
      tag: ctx.trace,
      onToken: (token) => {
        if (ctx.signal.aborted) return;
        streamed.tokens++;
        streamed.chars += token.text.length;
        ctx.onToken?.(token);
      },
    });
    const aborted = abortPromise(ctx.signal);
    try {
      const outcome = await Promise.race([done, aborted.promise]);
      const usage = { prompt_tokens: promptTokens, completion_tokens: streamed.tokens };
      if (!outcome || outcome.finishReason === 'cancelled') {
        scheduler.cancel(key);
        return {
          result: {
            text: plan.text.slice(0, streamed.chars),
            tokens: plan.tokens.slice(0, streamed.tokens).map((t) => t.token_id),
            finish_reason: 'cancelled',
          },
          usage,
          ...(outcome
            ? {
                batchWaitMs: outcome.batchWaitMs,
                inferenceMs: outcome.inferenceMs,
                batchSize: outcome.meanBatchSize,
              }
            : { batchWaitMs: performance.now() - submittedAt, inferenceMs: 0, batchSize: 0 }),
        };
      }
      return {
        result: {
          text: plan.text,
          tokens: plan.tokens.map((t) => t.token_id),
          finish_reason: plan.finish_reason,
        },
        usage,
        batchWaitMs: outcome.batchWaitMs,
        inferenceMs: outcome.inferenceMs,
        batchSize: outcome.meanBatchSize,
      };
    } finally {
      aborted.dispose();
      // The scheduler settles later when the abort won; its outcome is of no use then.
      done.catch(() => undefined);
    }
  }

  async embed(job: QueuedEmbedJob, ctx: RunContext): Promise<BackendOutput<EmbedResult>> {
    this.assertOpen();
    const submittedAt = performance.now();
    const work: SimEmbedWork = { texts: job.input.texts, dim: this.config.sim.embedding_dim };
    const done = this.embedBatcher.submit(work, {
      priority: job.priority,
      deadlineAt: job.deadline_at,
      signal: ctx.signal,
      tag: ctx.trace,
    });
    const aborted = abortPromise(ctx.signal);
    let result: EmbedResult | undefined;
    try {
      // Resolves as soon as the job is aborted: its batch runs on, the job does not wait for it.
      result = (await Promise.race([done, aborted.promise]))?.output;
    } catch (err) {
      if (!ctx.signal.aborted) throw err;
    } finally {
      aborted.dispose();
      done.catch(() => undefined);
    }
    if (!result || ctx.signal.aborted)
      throw new HotpathError(ErrorCode.Cancelled, `embedding on "${this.model}" aborted`);
    return {
      result,
      usage: { prompt_tokens: countWords(job.input.texts.join(' ')), completion_tokens: 0 },
      ...measured(work.batch, submittedAt),
    };
  }

  /** The virtual replica holding the fewest sequences (waiting, in a prefill or running). */
  private leastLoaded(): SimScheduler {
    let best = this.replicas[0] as SimScheduler;
    for (const r of this.replicas) if (r.load < best.load) best = r;
    return best;
  }

  private createReplicas(): SimScheduler[] {
    const engine = new SimSequenceEngine(this.config.sim, this.stop.signal);
    const onReport = tracingEnabled() ? this.spans('text_completion') : undefined;
    return Array.from(
      { length: modelReplicas(this.config) },
      (): SimScheduler => new IterationScheduler(engine, continuousPolicy(this.config), { onReport }),
    );
  }

  private createEmbedBatcher(): MicroBatcher<SimEmbedWork, EmbedResult, Context> {
    return new MicroBatcher<SimEmbedWork, EmbedResult, Context>({
      ...microBatchPolicy(this.config),
      maxBuffered: MAX_BUFFERED,
      flushWhenIdle: true,
      onReport: tracingEnabled() ? this.spans('embeddings') : undefined,
      run: (items) => runSimBatch(this.config.sim, items, this.stop.signal),
    });
  }

  /** Batch spans of this model: each simulated forward is a model execution. */
  private spans(operation: string): ReturnType<typeof batchSpans> {
    return batchSpans(this.model, {
      [Attr.genAiOperation]: operation,
      [Attr.executionProvider]: executionProvider(this.config),
    });
  }

  private assertOpen(): void {
    if (this.closed)
      throw new HotpathError(ErrorCode.WorkerShutdown, `sim backend "${this.model}" is closed`);
  }
}

/** Batch wait and execution time of an embed job, from its batch (zeros when it never got into one). */
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
