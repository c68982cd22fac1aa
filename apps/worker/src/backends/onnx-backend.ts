import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
import { MicroBatcher, type BatchOutcome } from '@hotpath/batching';
import { forgeModel, ReplicaPool } from '@hotpath/model-runtime';
import { Attr, tracingEnabled, type Context } from '@hotpath/telemetry';
import { batchSpans } from './batch-spans';
import { continuousPolicy, microBatchPolicy } from './batching-policy';
import { modelReplicas } from './model-replicas';
import { ReplicaStatsGauges } from './replica-stats-gauges';
import { executionProvider } from './traced-backend';
import type { BackendDeps, BackendOutput, InferenceBackend, RunContext } from './inference-backend';

/** One text's share of a micro-batched `pool.embed` call. */
interface EmbeddedText {
  embedding: number[];
  tokens: number;
  /** Cut to the model's context. */
  truncated: boolean;
  inferenceMs: number;
}

/** Waiting texts beyond which embed submissions fail with `queue_full` (BullMQ concurrency bounds it first). */
const MAX_BUFFERED_TEXTS = 65_536;

/** How often replica busy ratios are computed (a Prometheus scrape interval or less). */
const BUSY_SAMPLE_MS = 2000;

/**
 * The `onnx` backend: a model folder (docs/models.md#the-model-folder) served by `model.replicas` onnxruntime-node
 * replicas, each in its own worker thread (`ReplicaPool`), so inference never blocks the worker's
 * event loop. When `model.path` has no `model.onnx` and `model.forge` is set, the folder is forged
 * first.
 *
 * `generate`: each job is one sequence on the least-loaded replica, continuously batched there
 * (`batching.continuous`: up to `max_running_sequences` per replica; `batching.enabled: false` =
 * one at a time), waiting in priority order; tokens stream through `onToken`, and an abort stops
 * just that sequence at its next token with `finish_reason: "cancelled"`.
 * `embed`: the texts of concurrent jobs are micro-batched into one `pool.embed` call
 * (`batching.micro`: up to `max_batch_size` texts or `max_queue_delay_ms`, one batch in flight per
 * replica); with batching off each job is its own call.
 */
export class OnnxBackend implements InferenceBackend {
  readonly model: string;
  private pool: ReplicaPool | null = null;
  private busyTimer: NodeJS.Timeout | undefined;
  /** Arena and prefix-cache numbers the replica threads report, as Prometheus series. */
  private readonly statsGauges: ReplicaStatsGauges;
  private embedBatcher: MicroBatcher<string, EmbeddedText, Context> | null = null;

  /** The model folder's content digest, once started. */
  get digest(): string | undefined {
    return this.pool?.info.digest;
  }
  private starting: Promise<void> | null = null;

  constructor(
    private readonly config: ModelConfig,
    private readonly deps: BackendDeps,
  ) {
    this.model = config.name;
    this.statsGauges = new ReplicaStatsGauges(deps.metrics, config.name);
  }

  start(): Promise<void> {
    this.starting ??= this.load();
    return this.starting;
  }

  private async load(): Promise<void> {
    const { config, deps } = this;
    const dir = config.path;
    if (!dir) {
      throw new HotpathError(
        ErrorCode.InvalidConfig,
        `model "${config.name}": an onnx model needs a path`,
        `models.${config.name}.path`,
      );
    }
    if (!existsSync(join(dir, 'model.onnx')) && config.forge) {
      const started = performance.now();
      const res = forgeModel({
        arch: config.forge.arch,
        preset: config.forge.preset,
        seed: config.forge.seed,
        out: dir,
      });
      deps.logger.info('forged model folder', {
        model: config.name,
        dir,
        preset: config.forge.preset,
        digest: res.digest,
        ms: Math.round(performance.now() - started),
      });
    }
    const pool = await ReplicaPool.start({
      dir,
      onnx: { dtype: config.dtype, file: config.onnx_file },
      replicas: modelReplicas(config),
      execution: config.execution,
      defaultMaxTokens: config.default_max_tokens,
      log: (msg) => deps.logger.warn(msg, { model: config.name }),
      engine: config.execution.engine,
      scheduler: continuousPolicy(config),
      prefixCache: config.prefix_cache.enabled
        ? { maxBytes: config.prefix_cache.max_bytes, blockTokens: config.prefix_cache.block_tokens }
        : null,
      // Replicas report what they ran only when there is a trace to put it in.
      ...(tracingEnabled()
        ? {
            onReport: batchSpans(config.name, {
              [Attr.genAiOperation]: 'text_completion',
              [Attr.executionProvider]: executionProvider(config),
            }),
          }
        : {}),
      // ... and their arena and prefix-cache numbers always (Prometheus series).
      onStats: this.statsGauges.update,
      ...(deps.cpuPlacement ? { cpuPlacement: deps.cpuPlacement } : {}),
    });
    const wants = config.tasks.includes('generate') ? 'decoder' : 'encoder';
    if (config.tasks.includes('generate') && config.tasks.includes('embed')) {
      await pool.close();
      throw new HotpathError(
        ErrorCode.InvalidConfig,
        `model "${config.name}": one onnx model serves generate or embed, not both`,
        `models.${config.name}.tasks`,
      );
    }
    if (pool.info.kind !== wants) {
      await pool.close();
      throw new HotpathError(
        ErrorCode.InvalidConfig,
        `model "${config.name}": ${dir} is an ${pool.info.kind}, but tasks are [${config.tasks.join(', ')}]`,
        `models.${config.name}.tasks`,
      );
    }
    this.pool = pool;
    if (wants === 'encoder' && config.batching.enabled) this.embedBatcher = this.createEmbedBatcher(pool);
    this.startBusySampling(pool);
    deps.logger.info('onnx model ready', {
      model: config.name,
      dir,
      digest: pool.info.digest,
      kind: pool.info.kind,
      // Which engine `execution.engine` resolved to (wasm, arena, plain; null for an encoder).
      engine: pool.info.engine,
      replicas: pool.size,
      batching: config.batching.enabled,
      prefix_cache: config.prefix_cache.enabled && wants === 'decoder',
    });
  }

  private createEmbedBatcher(pool: ReplicaPool): MicroBatcher<string, EmbeddedText, Context> {
    return new MicroBatcher<string, EmbeddedText, Context>({
      ...microBatchPolicy(this.config),
      maxConcurrentBatches: pool.size,
      maxBuffered: MAX_BUFFERED_TEXTS,
      // An idle replica takes a lone request at once: batching must not tax an idle system.
      flushWhenIdle: true,
      // The batch span is the model execution: one `pool.embed` call for the whole batch.
      onReport: tracingEnabled()
        ? batchSpans(this.config.name, {
            [Attr.genAiOperation]: 'embeddings',
            [Attr.executionProvider]: executionProvider(this.config),
          })
        : undefined,
      usage: (outputs) => ({ inputTokens: outputs.reduce((n, o) => n + o.tokens, 0) }),
      run: async (texts) => {
        const out = await pool.embed(texts);
        return out.embeddings.map((embedding, i) => ({
          embedding,
          tokens: out.tokenCounts[i] ?? 0,
          truncated: out.truncated.includes(i),
          inferenceMs: out.inferenceMs,
        }));
      },
    });
  }

  private requirePool(): ReplicaPool {
    if (!this.pool) throw new HotpathError(ErrorCode.WorkerShutdown, `model "${this.model}" is not running`);
    return this.pool;
  }

  async generate(job: QueuedGenerateJob, ctx: RunContext): Promise<BackendOutput<GenerateResult>> {
    const pool = this.requirePool();
    const params = { ...job.params, max_tokens: job.params.max_tokens ?? this.config.default_max_tokens };
    // Deadlines are the job runner's: it aborts ctx.signal, which ends the sequence at its next
    // token. A replica-side deadline would race that abort and surface as a retryable error.
    const out = await pool.submitGeneration(
      { prompt: job.input.prompt, params },
      { signal: ctx.signal, onToken: ctx.onToken, tag: ctx.trace, priority: job.priority },
    );
    this.recordPrefixHit(out.prefixHitTokens);
    return {
      result: { text: out.text, tokens: out.tokens, finish_reason: out.finishReason },
      usage: {
        prompt_tokens: out.promptTokens.length,
        completion_tokens: out.tokens.length,
        ...(this.config.prefix_cache.enabled ? { cached_tokens: out.prefixHitTokens ?? 0 } : {}),
      },
      batchWaitMs: out.batchWaitMs,
      inferenceMs: out.inferenceMs,
      batchSize: out.meanBatchSize,
      prefixHitTokens: out.prefixHitTokens,
    };
  }

  private recordPrefixHit(tokens: number): void {
    const metrics = this.deps.metrics;
    if (!this.config.prefix_cache.enabled) return;
    metrics.prefixCacheLookups.inc({ model: this.model, result: tokens > 0 ? 'hit' : 'miss' });
    if (tokens > 0) metrics.prefixCacheHitTokens.inc({ model: this.model }, tokens);
  }

  async embed(job: QueuedEmbedJob, ctx: RunContext): Promise<BackendOutput<EmbedResult>> {
    const pool = this.requirePool();
    if (ctx.signal.aborted) throw new HotpathError(ErrorCode.Cancelled, 'cancelled before it ran');
    const batcher = this.embedBatcher;
    if (!batcher) {
      const out = await pool.embed(job.input.texts);
      return {
        result: {
          embeddings: out.embeddings,
          ...(out.truncated.length > 0 ? { truncated: out.truncated } : {}),
        },
        usage: { prompt_tokens: out.promptTokens, completion_tokens: 0 },
        batchWaitMs: 0,
        inferenceMs: out.inferenceMs,
        batchSize: job.input.texts.length,
      };
    }
    // One batcher item per text, so max_batch_size counts texts and a large job spreads over batches.
    // No deadlineAt here either: the runner's abort removes waiting texts (see generate).
    const parts: BatchOutcome<EmbeddedText>[] = await Promise.all(
      job.input.texts.map((text) =>
        batcher.submit(text, { priority: job.priority, signal: ctx.signal, tag: ctx.trace }),
      ),
    );
    const truncated = parts.flatMap((p, i) => (p.output.truncated ? [i] : []));
    return {
      result: {
        embeddings: parts.map((p) => p.output.embedding),
        ...(truncated.length > 0 ? { truncated } : {}),
      },
      usage: { prompt_tokens: parts.reduce((n, p) => n + p.output.tokens, 0), completion_tokens: 0 },
      batchWaitMs: Math.max(0, ...parts.map((p) => p.batchWaitMs)),
      inferenceMs: Math.max(0, ...parts.map((p) => p.output.inferenceMs)),
      batchSize: Math.max(0, ...parts.map((p) => p.batchSize)),
    };
  }

  /**
   * `hotpath_replica_busy_ratio{model,replica}`: the share of each sampling period a replica had
   * work in flight, from the pool's cumulative busy time (exact, not a point-in-time sample).
   */
  private startBusySampling(pool: ReplicaPool): void {
    const metrics = this.deps.metrics;
    let last = { at: performance.now(), busy: pool.busyTime() };
    this.busyTimer = setInterval(() => {
      const now = { at: performance.now(), busy: pool.busyTime() };
      const span = now.at - last.at;
      now.busy.forEach((b, i) => {
        const ratio = span > 0 ? Math.min(1, Math.max(0, (b - (last.busy[i] ?? 0)) / span)) : 0;
        metrics.replicaBusyRatio.set({ model: this.model, replica: String(i) }, ratio);
      });
      last = now;
    }, BUSY_SAMPLE_MS);
    this.busyTimer.unref();
  }

  async close(): Promise<void> {
    await this.starting?.catch(() => undefined);
    clearInterval(this.busyTimer);
    this.busyTimer = undefined;
    this.statsGauges.clear();
    const pool = this.pool;
    const batcher = this.embedBatcher;
    this.pool = null;
    this.embedBatcher = null;
    await batcher?.shutdown();
    await pool?.close();
  }
}
