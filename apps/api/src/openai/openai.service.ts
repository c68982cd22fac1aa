import { setTimeout as sleep } from 'node:timers/promises';
import {
  ErrorCode,
  HotpathError,
  type JobRequestInput,
  type JobView,
  type ModelConfig,
  type Task,
} from '@hotpath/contracts';
import { findModel, variantNames } from '@hotpath/config';
import type { ModelDigests } from '@hotpath/cache';
import { isTerminal } from '@hotpath/queue';
import type { ApiConfig } from '../config/api-config';
import { isRedisFailure, type JobsService, type SubmitOptions, type Submission } from '../jobs/jobs.service';
import type { ChatTemplateRenderer } from './chat-template';
import type { ChatTemplateSource } from './chat-template.source';
import { readContextLength } from './model-tokenizers';
import type { ChatMessage, EmbeddingRequest, OpenAiGenerationRequest } from './openai-request';

/** A non-streaming request waits at most this long for its job, in slices of {@link WAIT_SLICE_S}. */
export const MAX_SYNC_WAIT_S = 600;
const WAIT_SLICE_S = 30;
/** Pause before looking again at a job while Redis is unreachable. */
const REDIS_RETRY_MS = 500;

/** An entry of `GET /v1/models` (OpenAI's fields, plus vLLM's `root`, `parent` and `max_model_len`). */
export interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** The model folder (`path`), or the name for a model without one. */
  root: string;
  /** The model a variant belongs to (`small` for `small@int8`); null for a model's own entry. */
  parent: string | null;
  /** Context length from the folder's `config.json`; null when this process cannot read it. */
  max_model_len: number | null;
  /** How Hotpath serves it: backend, tasks, and the graph variant when one is configured. */
  hotpath: {
    backend: string;
    tasks: string[];
    dtype?: string;
    onnx_file?: string;
    /** This entry's variant name, and on a model's own entry every variant it offers and its default. */
    variant: string;
    variants?: string[];
    default_variant?: string;
  };
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/**
 * The OpenAI-compatible layer over the native job path: every request becomes a job submitted
 * through {@link JobsService} (so cache, single-flight, priorities, shards, idempotency and
 * backpressure apply), and is answered from the finished job or its event stream.
 */
export class OpenAiService {
  private readonly startedAt = Math.floor(Date.now() / 1000);

  constructor(
    private readonly config: ApiConfig,
    private readonly jobs: JobsService,
    private readonly digests: ModelDigests,
    private readonly templates: ChatTemplateSource,
    private readonly renderer: ChatTemplateRenderer,
  ) {}

  async models(): Promise<OpenAiModel[]> {
    return Promise.all(this.config.cluster.models.map((m) => this.modelEntry(m)));
  }

  model(id: string): Promise<OpenAiModel> {
    return this.modelEntry(this.find(id));
  }

  /** A configured model by name; 404 `model_not_found`. */
  find(name: string): ModelConfig {
    const m = findModel(this.config.cluster, name);
    if (!m) throw modelNotFound(name);
    return m;
  }

  /** The model of a request; 404 `model_not_found`, or 400 when it does not serve `task`. */
  resolve(name: string, task: Task): ModelConfig {
    const m = this.find(name);
    if (!m.tasks.includes(task)) {
      const route = task === 'embed' ? 'embeddings' : 'completions';
      throw new HotpathError(
        ErrorCode.InvalidRequest,
        `model "${m.name}" does not serve ${route} (it serves: ${m.tasks.join(', ')})`,
        'model',
      );
    }
    return m;
  }

  /** The chat prompt, rendered with the model's template (or the default one). */
  async renderChat(model: ModelConfig, messages: readonly ChatMessage[]): Promise<string> {
    const { info } = await this.templates.forModel(model);
    return this.renderer.render(info, messages);
  }

  /** The served model version (OpenAI `system_fingerprint`); `null` before a worker published it. */
  async fingerprint(model: string): Promise<string | null> {
    return this.digests.current(model).catch(() => null);
  }

  async submitGeneration(
    tenant: string,
    model: ModelConfig,
    req: OpenAiGenerationRequest,
    prompt: string,
    opts: SubmitOptions,
  ): Promise<Submission> {
    const body: JobRequestInput = {
      model: model.name,
      task: 'generate',
      input: { prompt },
      params: req.params,
      ...(req.priority ? { priority: req.priority } : {}),
      ...(req.routing_key ? { routing_key: req.routing_key } : {}),
    };
    // A stream's job is cancelled when its client leaves, so no other request may follow it.
    return this.jobs.submit(tenant, body, { ...opts, solo: req.stream, watched: req.stream });
  }

  async submitEmbedding(
    tenant: string,
    model: ModelConfig,
    req: EmbeddingRequest,
    opts: SubmitOptions,
  ): Promise<Submission> {
    const body: JobRequestInput = {
      model: model.name,
      task: 'embed',
      input: { texts: req.input },
      ...(req.priority ? { priority: req.priority } : {}),
      ...(req.routing_key ? { routing_key: req.routing_key } : {}),
    };
    return this.jobs.submit(tenant, body, opts);
  }

  /**
   * Waits for a job to finish (bounded by {@link MAX_SYNC_WAIT_S}); the view as it is when
   * `signal` aborts. Throws 504 when the bound passes.
   */
  async waitFinished(tenant: string, view: JobView, signal: AbortSignal): Promise<JobView> {
    let current = view;
    const deadline = Date.now() + MAX_SYNC_WAIT_S * 1000;
    while (!isTerminal(current.status) && !signal.aborted) {
      const left = (deadline - Date.now()) / 1000;
      if (left <= 0) {
        throw new HotpathError(
          ErrorCode.DeadlineExceeded,
          `job ${view.id} did not finish within ${MAX_SYNC_WAIT_S} s; it keeps running (GET /v1/jobs/${view.id})`,
        );
      }
      try {
        current = await this.jobs.wait(tenant, view.id, Math.min(WAIT_SLICE_S, left), signal);
      } catch (err) {
        // The job was accepted: ride out a Redis outage until the bound rather than answer 503,
        // which OpenAI SDKs retry by submitting the request again.
        if (!isRedisFailure(err)) throw err;
        await sleep(REDIS_RETRY_MS, undefined, { signal }).catch(() => undefined);
      }
    }
    return current;
  }

  /** Cancels a job its client abandoned; a job that already ended is left alone. */
  async abandon(tenant: string, id: string): Promise<void> {
    await this.jobs.cancel(tenant, id).catch(() => undefined);
  }

  private async modelEntry(m: ModelConfig): Promise<OpenAiModel> {
    return {
      id: m.name,
      object: 'model',
      created: this.startedAt,
      owned_by: 'hotpath',
      root: m.path ?? m.name,
      parent: m.variant_of ?? null,
      max_model_len: m.path ? await readContextLength(m.path) : null,
      hotpath: {
        backend: m.backend,
        tasks: [...m.tasks],
        ...(m.dtype ? { dtype: m.dtype } : {}),
        ...(m.onnx_file ? { onnx_file: m.onnx_file } : {}),
        variant: m.variant,
        ...(m.variant_of === undefined
          ? {
              variants: variantNames(this.config.cluster, m).split(', '),
              default_variant: m.default_variant ?? m.variant,
            }
          : {}),
      },
    };
  }
}

/** The error a finished-but-unsuccessful job answers with. */
export function jobFailure(view: JobView): HotpathError {
  if (view.status === 'cancelled')
    return new HotpathError(ErrorCode.Cancelled, `job ${view.id} was cancelled`);
  const code =
    view.error && KNOWN_CODES.has(view.error.code) ? (view.error.code as ErrorCode) : ErrorCode.Internal;
  return new HotpathError(code, view.error?.message ?? `job ${view.id} failed`);
}

function modelNotFound(name: string): HotpathError {
  return new HotpathError(
    ErrorCode.ModelNotFound,
    `The model '${name.slice(0, 128)}' does not exist`,
    'model',
  );
}
