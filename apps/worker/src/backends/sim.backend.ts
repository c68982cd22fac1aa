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
import { abortableSleep } from './abortable-sleep';
import type { BackendOutput, InferenceBackend, RunContext } from './inference-backend';
import { countWords, planSimGeneration, simEmbedding, simLatencyMs } from './sim-model';

/** Delays shorter than this are not worth a timer: the token is emitted at once. */
const MIN_TIMER_MS = 1;

/**
 * The `sim` backend: a load-testing feature, not a stand-in. It burns no CPU; each job takes
 * `base_ms + per_item_ms * batch_size` (batch size 1 until batching lands) of wall-clock time, so a
 * cluster can be load-tested for queueing, priorities, backpressure and scaling without a model.
 *
 * - generate: deterministic word-like tokens from sha256(prompt + seed) in a 32000-token vocabulary,
 *   `max_tokens` of them (model `default_max_tokens` when unset), streamed through `onToken` evenly
 *   over the latency window; honours `stop` sequences; an abort ends it early with `cancelled`.
 * - embed: one deterministic L2-normalised vector of `sim.embedding_dim` values per text.
 *
 * Usage counts whitespace-separated words as prompt tokens.
 */
export class SimBackend implements InferenceBackend {
  readonly model: string;
  /** Sim output depends only on the request and the embedding width; latency settings do not count. */
  readonly digest: string;
  private closed = false;

  constructor(private readonly config: ModelConfig) {
    this.model = config.name;
    this.digest = `sim-v1-d${config.sim.embedding_dim}`;
  }

  async start(): Promise<void> {
    this.closed = false;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async generate(job: QueuedGenerateJob, ctx: RunContext): Promise<BackendOutput<GenerateResult>> {
    this.assertOpen();
    const started = performance.now();
    const maxTokens = job.params.max_tokens ?? this.config.default_max_tokens;
    const plan = planSimGeneration(job.input.prompt, job.params.seed, maxTokens, job.params.stop);
    const latency = simLatencyMs(this.config.sim, 1);
    const n = plan.tokens.length;
    let emitted = 0;
    let emittedChars = 0;
    for (const token of plan.tokens) {
      if (latency > 0) {
        // Token i is due at (i + 1) / n of the latency window.
        const due = started + (latency * (token.index + 1)) / n;
        const wait = due - performance.now();
        if (wait >= MIN_TIMER_MS && !(await abortableSleep(wait, ctx.signal))) break;
      }
      if (ctx.signal.aborted) break;
      ctx.onToken?.(token);
      emitted++;
      emittedChars += token.text.length;
    }
    if (n === 0 && latency > 0) await abortableSleep(latency, ctx.signal);

    const cancelled = ctx.signal.aborted && (emitted < n || n === 0);
    const tokens = plan.tokens.slice(0, emitted).map((t) => t.token_id);
    const result: GenerateResult = cancelled
      ? { text: plan.text.slice(0, emittedChars), tokens, finish_reason: 'cancelled' }
      : { text: plan.text, tokens, finish_reason: plan.finish_reason };
    return {
      result,
      usage: { prompt_tokens: countWords(job.input.prompt), completion_tokens: emitted },
      batchWaitMs: 0,
      inferenceMs: performance.now() - started,
      batchSize: 1,
    };
  }

  async embed(job: QueuedEmbedJob, ctx: RunContext): Promise<BackendOutput<EmbedResult>> {
    this.assertOpen();
    const started = performance.now();
    const completed = await abortableSleep(simLatencyMs(this.config.sim, 1), ctx.signal);
    if (!completed || ctx.signal.aborted) {
      throw new HotpathError(ErrorCode.Cancelled, `embedding on "${this.model}" aborted`);
    }
    const dim = this.config.sim.embedding_dim;
    return {
      result: { embeddings: job.input.texts.map((t) => simEmbedding(t, dim)) },
      usage: {
        prompt_tokens: countWords(job.input.texts.join(' ')),
        completion_tokens: 0,
      },
      batchWaitMs: 0,
      inferenceMs: performance.now() - started,
      batchSize: 1,
    };
  }

  private assertOpen(): void {
    if (this.closed)
      throw new HotpathError(ErrorCode.WorkerShutdown, `sim backend "${this.model}" is closed`);
  }
}
