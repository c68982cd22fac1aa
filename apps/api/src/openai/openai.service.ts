import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ErrorCode,
  HotpathError,
  toErrorCode,
  type JobRequestInput,
  type JobView,
  type ModelConfig,
  type Task,
} from '@hotpath/contracts';
import { findModel, variantNames } from '@hotpath/config';
import type { ModelDigests } from '@hotpath/cache';
import {
  isTerminal,
  type Availability,
  type AvailabilityCache,
  type ModelInputLimitsStore,
} from '@hotpath/queue';
import type { ApiConfig } from '../config/api-config';
import { isRedisFailure, type JobsService, type SubmitOptions, type Submission } from '../jobs/jobs.service';
import type { ChatTemplateRenderer } from './chat-template';
import type { ChatTemplateSource } from './chat-template-source';
import { readContextLength } from './model-tokenizers';
import type { EmbeddingRequest, OpenAiGenerationRequest } from './openai-request';
import type { ChatMessage } from './openai-schemas';

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
  /**
   * Context length from the folder's `config.json`, or as the serving workers published it; null
   * when neither is known (no worker has served it and this process cannot read the folder).
   */
  max_model_len: number | null;
  /** How Hotpath serves it; see {@link HotpathModelInfo}. */
  hotpath: HotpathModelInfo;
}

/** Hotpath's own fields of a `/v1/models` entry. */
export interface HotpathModelInfo {
  backend: string;
  tasks: string[];
  /** The configured graph variant or file, when one is configured. */
  dtype?: string;
  onnx_file?: string;
  /** Graph dtypes the model folder holds (`fp32`, `q4`, …), as the serving workers see it. */
  dtypes: string[];
  /** This entry's variant name (docs/optimization.md#variants). */
  variant: string;
  /** On a model's own entry: every variant it offers (its own first) and the default one. */
  variants?: string[];
  default_variant?: string;
  /** `false`: configured, but no live worker serves it (jobs get 503 `model_unavailable`). */
  served: boolean;
  /** Live workers serving it. */
  workers: number;
  /** Shards no live worker takes jobs from. */
  unserved_shards: number[];
}

/**
 * The OpenAI-compatible layer over the native job path: every request becomes a job submitted
 * through {@link JobsService} (so cache, single-flight, priorities, shards, idempotency and
 * backpressure apply), and is answered from the finished job or its event stream.
 */
export class OpenAiService {
  constructor(
    private readonly config: ApiConfig,
    private readonly jobs: JobsService,
    private readonly digests: ModelDigests,
    private readonly templates: ChatTemplateSource,
    private readonly renderer: ChatTemplateRenderer,
    private readonly availability: AvailabilityCache,
    private readonly limits: ModelInputLimitsStore,
  ) {}

  async models(): Promise<OpenAiModel[]> {
    const live = await this.availability.current();
    return Promise.all(this.config.cluster.models.map((m) => this.modelEntry(m, live)));
  }

  async model(id: string): Promise<OpenAiModel> {
    const m = this.find(id);
    return this.modelEntry(m, await this.availability.current());
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

  private async modelEntry(m: ModelConfig, live: Availability): Promise<OpenAiModel> {
    const info = live.modelInfo(m.name);
    const published = await this.limits.current(m.name).catch(() => undefined);
    const workers = live.workerCount(m.name);
    return {
      id: m.name,
      object: 'model',
      created: info?.created ?? (await folderCreated(m.path)) ?? firstServed(live, m.name) ?? 0,
      owned_by: 'hotpath',
      root: m.path ?? m.name,
      parent: m.variant_of ?? null,
      max_model_len: (m.path ? await readContextLength(m.path) : null) ?? published?.context_tokens ?? null,
      hotpath: {
        backend: m.backend,
        tasks: [...m.tasks],
        ...(m.dtype ? { dtype: m.dtype } : {}),
        ...(m.onnx_file ? { onnx_file: m.onnx_file } : {}),
        dtypes: info?.variants ?? [],
        variant: m.variant,
        ...(m.variant_of === undefined
          ? {
              variants: variantNames(this.config.cluster, m).split(', '),
              default_variant: m.default_variant ?? m.variant,
            }
          : {}),
        served: workers > 0,
        workers,
        unserved_shards: live.unservedShards(m.name, m.shards),
      },
    };
  }
}

/** Unix seconds the folder's `config.json` was written, when this process can read it. */
async function folderCreated(path: string | undefined): Promise<number | undefined> {
  if (!path) return undefined;
  try {
    return Math.floor((await stat(join(path, 'config.json'))).mtimeMs / 1000);
  } catch {
    return undefined;
  }
}

/** For a model without files (`sim`): when its longest-running live worker started serving it. */
function firstServed(live: Availability, model: string): number | undefined {
  const starts = live.workers
    .filter((w) => w.alive && w.models.some((x) => x.model === model))
    .map((w) => w.started_at);
  return starts.length > 0 ? Math.floor(Math.min(...starts) / 1000) : undefined;
}

/** The error a finished-but-unsuccessful job answers with. */
export function jobFailure(view: JobView): HotpathError {
  if (view.status === 'cancelled')
    return new HotpathError(ErrorCode.Cancelled, `job ${view.id} was cancelled`);
  const code = toErrorCode(view.error?.code, ErrorCode.Internal);
  return new HotpathError(code, view.error?.message ?? `job ${view.id} failed`);
}

function modelNotFound(name: string): HotpathError {
  return new HotpathError(
    ErrorCode.ModelNotFound,
    `The model '${name.slice(0, 128)}' does not exist`,
    'model',
  );
}
