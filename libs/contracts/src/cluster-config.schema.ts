import { z } from 'zod';
import { BatchingSchema, VariantBatchingSchema } from './batching-config.schema';
import { TaskSchema } from './job.schema';
import { FairnessSchema, TenantsSchema } from './tenant-config.schema';

const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const SimSettingsSchema = z
  .strictObject({
    /**
     * Latency of one simulated forward, in milliseconds: `base_ms + per_item_ms × rows`, rows being
     * the jobs of an embed micro-batch or the sequences of a generate prefill or decode step.
     */
    base_ms: z.number().min(0).max(600_000).default(0),
    per_item_ms: z.number().min(0).max(600_000).default(0),
    /** Added to a generate prefill forward per prompt token it feeds (prompt words, as the sim counts them). */
    prefill_per_token_ms: z.number().min(0).max(60_000).default(0),
    embedding_dim: z.int().min(1).max(4096).default(8),
  })
  .prefault({});

export const CacheSettingsSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    ttl_s: z
      .int()
      .min(1)
      .max(30 * 24 * 3600)
      .default(3600),
    max_entries: z.int().min(1).default(100_000),
    /** Results larger than this are not cached, so memory stays within max_entries × max_entry_bytes. */
    max_entry_bytes: z
      .int()
      .min(256)
      .max(64 * 1024 * 1024)
      .default(256 * 1024),
    scope: z.enum(['tenant', 'global']).default('tenant'),
  })
  .prefault({});

/**
 * Prompt-prefix KV reuse inside each replica of an `onnx` generate model: the KV state of whole
 * blocks of prompt tokens is kept (chained block hashes, LRU, at most `max_bytes` per replica), so a
 * prompt starting with cached blocks prefills only the rest.
 */
export const PrefixCacheSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    max_bytes: z
      .int()
      .min(0)
      .max(64 * 1024 * 1024 * 1024)
      .default(256 * 1024 * 1024),
    block_tokens: z.int().min(1).max(1024).default(16),
  })
  .prefault({});

/** Running sequences at or below which the arena engine runs its GroupQueryAttention graph. */
export const DEFAULT_GQA_MAX_ROWS = 8;

/**
 * Decoder engines (`execution.engine`): `wasm` (Hotpath's SIMD kernels: in-place KV slots, flat
 * ragged batches; for tiny models), `arena` (the engine graph derived from the folder on
 * onnxruntime: in-place KV arena, ragged batches, fused ops), `plain` (the folder's own
 * model.onnx), `auto` (wasm for a tiny fp32 model on the CPU, else arena when derivable, else plain).
 */
export const ENGINE_MODES = ['auto', 'wasm', 'arena', 'plain'] as const;
export type EngineMode = (typeof ENGINE_MODES)[number];

export const ExecutionSchema = z
  .strictObject({
    providers: z
      .array(z.enum(['cpu', 'cuda']))
      .min(1)
      .default(['cpu']),
    intra_op_threads: z.int().min(0).max(256).default(0),
    inter_op_threads: z.int().min(0).max(256).default(0),
    graph_optimization: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
    /** Decoder engine (see {@link ENGINE_MODES}). */
    engine: z.enum(ENGINE_MODES).default('auto'),
    /**
     * Let onnxruntime's intra-op threads spin-wait between operators. Off by default: on shared
     * cores (API, Redis, other replicas, container CPU limits) spinning threads starve the rest.
     */
    allow_spinning: z.boolean().default(false),
    /**
     * Arena engine: while at most this many sequences run, each step uses the GroupQueryAttention
     * graph (one fused attention node per layer: fewer operators, faster at small batches); above
     * it, the wide graph (faster at large batches). 0 = wide graph only (one session, less memory).
     */
    gqa_max_rows: z.int().min(0).max(4096).default(DEFAULT_GQA_MAX_ROWS),
    /**
     * Arena engine: N > 0 keeps the GQA graph at every batch size and runs a step of more than N
     * sequences as several forwards of at most N (adjacent) rows. For models so small that a step is
     * bound by per-operator overhead rather than FLOPs (stories260K-sized: measured faster per row
     * in forwards of 8 GQA rows than in one wide forward of 32); on larger models one wide forward
     * reads the weights once and wins. 0 (default) = the wide graph above `gqa_max_rows`.
     */
    gqa_chunk_rows: z.int().min(0).max(4096).default(0),
  })
  .prefault({});

export const ForgeSpecSchema = z.strictObject({
  arch: z.enum(['llama', 'bert']),
  preset: z.string().min(1),
  seed: z.int().min(0).default(1),
});

/**
 * Graph variants of transformers.js / onnx-community folders, named by their file suffix
 * (`onnx/model_q4.onnx` is `q4`; `fp32` is the plain `model.onnx`).
 */
export const OnnxDtypeSchema = z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4']);
export type OnnxDtype = z.infer<typeof OnnxDtypeSchema>;

/**
 * Model replicas per worker: a count, or `auto` — one per core for an `onnx` model on the CPU (each
 * with one intra-op thread by default), one on CUDA and for `sim`. See {@link replicaCount}.
 */
export const ReplicasSchema = z.union([z.int().min(1).max(64), z.literal('auto')]);

/**
 * The replicas a worker on a host with `cores` cores runs for `model`. `auto` is one per core on the
 * CPU because independent single-thread replicas out-run one replica whose operators are split
 * over all cores at 16 and more streams (docs/engine.md#threads), but never more than
 * `fitInMemory()` (how many copies of the model the worker's memory holds; only asked for `auto`
 * on the CPU, since finding it out reads the model folder), and at least one.
 */
export function replicaCount(
  model: { replicas: number | 'auto'; backend: 'sim' | 'onnx'; execution: { providers: readonly string[] } },
  cores: number,
  fitInMemory: () => number = () => Infinity,
): number {
  if (model.replicas !== 'auto') return model.replicas;
  if (model.backend !== 'onnx' || model.execution.providers.includes('cuda')) return 1;
  return Math.max(1, Math.min(64, Math.floor(cores), Math.floor(fitInMemory())));
}

const VARIANT_NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/;
const variantName = z
  .string()
  .regex(VARIANT_NAME, 'lowercase letters, digits, ".", "_" or "-", at most 32 characters');

/**
 * Another build of the same model served side by side (quantized, pruned, a distilled student):
 * its own folder and replicas, and optionally its own serving settings. Fields left out are the
 * parent entry's; a nested section given (execution, batching, …) replaces the parent's section.
 */
export const ModelVariantSchema = z.strictObject({
  name: variantName,
  path: z.string().min(1).optional(),
  dtype: OnnxDtypeSchema.optional(),
  onnx_file: z.string().min(1).optional(),
  forge: ForgeSpecSchema.optional(),
  shards: z.int().min(1).max(1024).optional(),
  replicas: ReplicasSchema.optional(),
  concurrency: z.int().min(1).max(4096).optional(),
  max_waiting: z.int().min(1).max(10_000_000).optional(),
  // unwrap(): without the parent schemas' prefault, a section left out stays out (inherited).
  batching: VariantBatchingSchema,
  cache: CacheSettingsSchema.unwrap().optional(),
  prefix_cache: PrefixCacheSchema.unwrap().optional(),
  execution: ExecutionSchema.unwrap().optional(),
  sim: SimSettingsSchema.unwrap().optional(),
});
export type ModelVariantConfig = z.infer<typeof ModelVariantSchema>;

/** Separates a model from its variant in a served model's name: `small@int8`. */
export const VARIANT_SEPARATOR = '@';

export const ModelConfigSchema = z.strictObject({
  name: z.string().regex(MODEL_NAME, 'lowercase letters, digits, ".", "_" or "-", at most 64 characters'),
  backend: z.enum(['sim', 'onnx']),
  /** Tasks the model accepts; the first is its default. */
  tasks: z.array(TaskSchema).min(1).default(['generate']),
  /** Model folder (docs/models.md) for `onnx`; relative paths resolve against the config file's folder. */
  path: z.string().min(1).optional(),
  /** Which graph variant of the folder to serve (`onnx`); fp32 when the folder has one. */
  dtype: OnnxDtypeSchema.optional(),
  /** The graph file to serve, relative to `path`; wins over `dtype`. */
  onnx_file: z.string().min(1).optional(),
  /** When the folder is missing, forge a synthetic model there (used by the default local config). */
  forge: ForgeSpecSchema.optional(),
  shards: z.int().min(1).max(1024).default(1),
  /** Replicas per worker (worker threads for `onnx`, virtual slots for `sim`); `auto`: {@link replicaCount}. */
  replicas: ReplicasSchema.default('auto'),
  /**
   * Work stealing: a worker whose own shards of this model are empty and whose slots are idle also
   * takes jobs from the model's other shard queues, so a hot shard does not leave the fleet idle.
   */
  steal: z.boolean().default(true),
  /** Jobs a worker runs at once for this model (BullMQ worker concurrency per shard queue). */
  concurrency: z.int().min(1).max(4096).default(16),
  /** Backpressure bound: waiting jobs over all shards beyond which submissions get 429. */
  max_waiting: z.int().min(1).max(10_000_000).default(10_000),
  default_max_tokens: z.int().min(1).max(4096).default(64),
  /**
   * With no live worker for a job's shard, `false` answers `503 model_unavailable` at once; `true`
   * queues the job anyway (scale-from-zero: an autoscaler starts workers on the backlog).
   */
  queue_when_unserved: z.boolean().default(false),
  batching: BatchingSchema,
  cache: CacheSettingsSchema,
  prefix_cache: PrefixCacheSchema,
  execution: ExecutionSchema,
  sim: SimSettingsSchema,
  /** This entry's own variant name (requests may name it: `variant: base`). */
  variant: variantName.default('base'),
  /** Other builds of this model, each served as `<name>@<variant>` with its own replicas. */
  variants: z.array(ModelVariantSchema).max(32).default([]),
  /** The variant a request without `variant` gets (default: this entry's own). */
  default_variant: variantName.optional(),
  fairness: FairnessSchema,
});
export type ModelConfig = z.infer<typeof ModelConfigSchema> & {
  /** Set on the entries Hotpath derives from `variants`: the parent model's name. */
  variant_of?: string;
};

export const QueueSettingsSchema = z
  .strictObject({
    /** Attempts for retryable faults (a crashed replica, a lost lock); poison input never retries. */
    attempts: z.int().min(1).max(100).default(3),
    backoff_ms: z.int().min(0).max(3_600_000).default(1000),
    /** How long a worker's lock on a running job lasts without renewal; a dead worker's jobs return after it. */
    lock_duration_ms: z.int().min(1000).max(3_600_000).default(30_000),
    stalled_interval_ms: z.int().min(500).max(3_600_000).default(30_000),
    max_stalled_count: z.int().min(0).max(100).default(3),
    /** SIGTERM: how long in-flight jobs may run before they are handed back to the queue. */
    shutdown_grace_ms: z.int().min(0).max(3_600_000).default(25_000),
    /**
     * Shortest time between a worker's writes to the job event streams (what SSE and OpenAI streams
     * read): a followed job's tokens of one interval become one stream entry. 0 = once per event-loop
     * turn (one entry per decode step). Delays a streamed token by at most this much.
     */
    event_flush_ms: z.int().min(0).max(1000).default(10),
    /**
     * Longest time between those writes while many followed jobs run: the interval stretches from
     * `event_flush_ms` to keep a worker near 2,000 stream entries a second, up to this. A job's first
     * token and its end never wait. Equal to `event_flush_ms`: no stretching. Unset: the larger of
     * 50 and `event_flush_ms` ({@link eventFlushMaxMs}).
     */
    event_flush_max_ms: z.int().min(0).max(1000).optional(),
    /**
     * The direct lane: a job that finds its shard without a backlog goes to a Hotpath-owned queue
     * instead of BullMQ for its first attempt (about a third of the Redis commands per job).
     * Backlogs, retries, hand-backs and a dead worker's jobs stay in BullMQ. false = BullMQ only.
     */
    direct_lane: z.boolean().default(true),
    /**
     * How long a failed job (payload included) stays in BullMQ for operators; workers sweep older
     * ones. The job record with its error stays `HOTPATH_RESULT_TTL_S` either way.
     */
    failed_retention_s: z
      .int()
      .min(1)
      .max(30 * 24 * 3600)
      .default(24 * 3600),
  })
  .refine((q) => q.event_flush_max_ms === undefined || q.event_flush_max_ms >= q.event_flush_ms, {
    path: ['event_flush_max_ms'],
    message: 'must be at least event_flush_ms',
  })
  .prefault({});

/** Default bound of the stretched event write interval, ms (`queue.event_flush_max_ms`). */
export const EVENT_FLUSH_MAX_MS = 50;

/** `queue.event_flush_max_ms` as it applies: its unset default never falls below `event_flush_ms`. */
export function eventFlushMaxMs(queue: {
  event_flush_ms: number;
  event_flush_max_ms?: number | undefined;
}): number {
  return queue.event_flush_max_ms ?? Math.max(EVENT_FLUSH_MAX_MS, queue.event_flush_ms);
}

export const RoutingSchema = z
  .strictObject({
    /** Characters of the prompt (or first text) hashed to pick a shard when no routing_key is given. */
    prefix_chars: z.int().min(1).max(65_536).default(256),
  })
  .prefault({});

export const ApiLimitsSchema = z
  .strictObject({
    max_body_bytes: z
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    /** Upper bound for `Prefer: wait=N` and `?wait=N`, seconds. */
    max_wait_s: z.int().min(0).max(3600).default(60),
    /** Characters over all texts of one embed request: bounds texts × tokens of one job. */
    max_embed_chars: z
      .int()
      .min(1)
      .max(2 * 1024 * 1024)
      .default(256 * 1024),
    /** Bytes an SSE client may have unread (buffered by the API) before it is disconnected. */
    sse_max_buffered_bytes: z
      .int()
      .min(16 * 1024)
      .max(64 * 1024 * 1024)
      .default(256 * 1024),
    /** Time a client has to send the whole request (headers and body); 0 = none. */
    request_timeout_ms: z.int().min(0).max(3_600_000).default(30_000),
    /**
     * Time a connection may pass without any byte in either direction before it is closed; 0 =
     * none. Raised to `max_wait_s` + 10 s when lower, so a long-poll is never cut.
     */
    idle_timeout_ms: z.int().min(0).max(3_600_000).default(120_000),
    /** Time an idle keep-alive connection stays open after a response. */
    keep_alive_timeout_ms: z.int().min(1).max(3_600_000).default(72_000),
  })
  .prefault({});

/** The cluster config (`HOTPATH_CONFIG`, YAML): what models exist and how they are served. */
export const ClusterConfigSchema = z
  .strictObject({
    models: z.array(ModelConfigSchema).min(1),
    queue: QueueSettingsSchema,
    routing: RoutingSchema,
    api: ApiLimitsSchema,
    tenants: TenantsSchema,
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.models.forEach((m, i) => {
      if (seen.has(m.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', i, 'name'],
          message: `duplicate model name "${m.name}"`,
        });
      }
      seen.add(m.name);
      if (m.backend === 'onnx' && !m.path) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'path'], message: 'an onnx model needs a path' });
      }
      const names = new Set([m.variant]);
      m.variants.forEach((v, j) => {
        if (names.has(v.name))
          ctx.addIssue({
            code: 'custom',
            path: ['models', i, 'variants', j, 'name'],
            message: `duplicate variant "${v.name}" of model "${m.name}"`,
          });
        names.add(v.name);
        if (
          m.backend === 'onnx' &&
          v.path === undefined &&
          v.dtype === undefined &&
          v.onnx_file === undefined
        )
          ctx.addIssue({
            code: 'custom',
            path: ['models', i, 'variants', j],
            message: 'an onnx variant needs its own path, dtype or onnx_file (else it is the parent model)',
          });
      });
      if (m.default_variant !== undefined && !names.has(m.default_variant))
        ctx.addIssue({
          code: 'custom',
          path: ['models', i, 'default_variant'],
          message: `"${m.default_variant}" is not a variant of "${m.name}" (${[...names].join(', ')})`,
        });
    });
  });
export type ClusterConfig = Omit<z.infer<typeof ClusterConfigSchema>, 'models'> & { models: ModelConfig[] };
export type ClusterConfigInput = z.input<typeof ClusterConfigSchema>;
