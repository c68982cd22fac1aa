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
import { forgeModel, ReplicaPool } from '@hotpath/model-runtime';
import type { BackendDeps } from './backend-factory';
import type { BackendOutput, InferenceBackend, RunContext } from './inference-backend';

/**
 * The `onnx` backend: a model folder (SPEC §6) served by `model.replicas` onnxruntime-node
 * replicas, each in its own worker thread (`ReplicaPool`), so inference never blocks the worker's
 * event loop. When `model.path` has no `model.onnx` and `model.forge` is set, the folder is forged
 * first. Each job runs on the least-loaded replica; tokens stream through `onToken`, and an abort
 * stops a generation at its next token with `finish_reason: "cancelled"`.
 */
export class OnnxBackend implements InferenceBackend {
  readonly model: string;
  private pool: ReplicaPool | null = null;

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
      replicas: config.replicas,
      execution: config.execution,
      defaultMaxTokens: config.default_max_tokens,
      log: (msg) => deps.logger.warn(msg, { model: config.name }),
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
    deps.logger.info('onnx model ready', {
      model: config.name,
      dir,
      digest: pool.info.digest,
      kind: pool.info.kind,
      replicas: pool.size,
    });
  }

  private requirePool(): ReplicaPool {
    if (!this.pool) throw new HotpathError(ErrorCode.WorkerShutdown, `model "${this.model}" is not running`);
    return this.pool;
  }

  async generate(job: QueuedGenerateJob, ctx: RunContext): Promise<BackendOutput<GenerateResult>> {
    const pool = this.requirePool();
    const params = { ...job.params, max_tokens: job.params.max_tokens ?? this.config.default_max_tokens };
    const [out] = await pool.generate([{ prompt: job.input.prompt, params }], {
      signal: ctx.signal,
      onToken: ctx.onToken ? (_seq, token) => ctx.onToken?.(token) : undefined,
    });
    if (!out)
      throw new HotpathError(ErrorCode.InferenceFailed, `model "${this.model}": replica returned no output`);
    return {
      result: { text: out.text, tokens: out.tokens, finish_reason: out.finishReason },
      usage: { prompt_tokens: out.promptTokens.length, completion_tokens: out.tokens.length },
      batchWaitMs: 0,
      inferenceMs: out.inferenceMs,
      batchSize: 1,
    };
  }

  async embed(job: QueuedEmbedJob, ctx: RunContext): Promise<BackendOutput<EmbedResult>> {
    const pool = this.requirePool();
    if (ctx.signal.aborted) throw new HotpathError(ErrorCode.Cancelled, 'cancelled before it ran');
    const out = await pool.embed(job.input.texts);
    return {
      result: { embeddings: out.embeddings },
      usage: { prompt_tokens: out.promptTokens, completion_tokens: 0 },
      batchWaitMs: 0,
      inferenceMs: out.inferenceMs,
      batchSize: job.input.texts.length,
    };
  }

  async close(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }
}
