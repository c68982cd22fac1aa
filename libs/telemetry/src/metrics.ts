import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { version as BUILD_VERSION } from '../package.json';

/**
 * Latency buckets in seconds, from 0.5 ms to 2 min: a cache hit answers in about a millisecond, a
 * `base` generation takes tens of seconds, and both must land in distinct buckets.
 */
export const LATENCY_BUCKETS_S = [
  0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];
/** Per-token latencies are short: 0.1 ms to 2 s. */
export const TOKEN_BUCKETS_S = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2];
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 24, 32, 48, 64, 128, 256];

/**
 * The Hotpath metrics (reference: docs/observability.md). Both processes register all of them so
 * dashboards never miss a series name.
 */
export interface HotpathMetrics {
  registry: Registry;
  /** Time the API worked on a request, without the time the client asked to wait for its job. */
  httpRequestDuration: Histogram<'route' | 'method' | 'status'>;
  /** Time requests spent waiting for their job because the client asked to (`Prefer: wait`, `?wait=N`, streams, OpenAI). */
  httpClientWait: Histogram<'route' | 'method'>;
  /** Jobs by stage: `api` (accepted, rejected) and `worker` (completed, failed, cancelled, deadline_exceeded). */
  jobsTotal: Counter<'model' | 'task' | 'stage' | 'outcome'>;
  /** Creation to the end of a run, per finished run on a worker. */
  jobDuration: Histogram<'model' | 'task' | 'outcome'>;
  promptTokens: Counter<'model'>;
  /** Constant 1, labelled with the running version. */
  buildInfo: Gauge<'version' | 'node_version'>;
  queueDepth: Gauge<'model' | 'shard' | 'state'>;
  queueWait: Histogram<'model'>;
  batchSize: Histogram<'model'>;
  inferenceDuration: Histogram<'model'>;
  timeToFirstToken: Histogram<'model'>;
  interTokenLatency: Histogram<'model'>;
  tokensGenerated: Counter<'model'>;
  cacheRequests: Counter<'model' | 'result'>;
  replicaBusyRatio: Gauge<'model' | 'replica'>;
  /** Prompt tokens whose KV came from a replica's prefix cache instead of a prefill (worker). */
  prefixCacheHitTokens: Counter<'model'>;
  /** Prefix-cache lookups of generations, by result (`hit` = at least one block reused, `miss`). */
  prefixCacheLookups: Counter<'model' | 'result'>;
  /** Sequence slots of each replica's KV arena (its max batch size), and those in use (worker). */
  kvArenaSlots: Gauge<'model' | 'replica'>;
  kvArenaSlotsUsed: Gauge<'model' | 'replica'>;
  /** Bytes of KV cache each replica's arena layout spans now. */
  kvArenaBytes: Gauge<'model' | 'replica'>;
  /** Capacity changes (re-layouts) of the replicas' arenas. */
  kvArenaRelayouts: Counter<'model'>;
  /** Blocks and bytes held in each replica's prefix KV cache. */
  prefixCacheBlocks: Gauge<'model' | 'replica'>;
  prefixCacheBytes: Gauge<'model' | 'replica'>;
  /** Blocks evicted from the replicas' prefix KV caches (LRU, over `max_bytes`). */
  prefixCacheEvictions: Counter<'model'>;
  fairHolds: Counter<'model' | 'outcome'>;
}

/**
 * Creates a registry with the Hotpath metrics and the default Node.js process metrics
 * (event-loop lag included). One per process; `service` becomes a constant label.
 */
export function createMetrics(
  service: 'hotpath-api' | 'hotpath-worker' | string,
  version = BUILD_VERSION,
): HotpathMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const registers = [registry];
  const metrics: HotpathMetrics = {
    registry,
    httpRequestDuration: new Histogram({
      name: 'hotpath_http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status code, without time the client asked to wait for its job (see hotpath_http_client_wait_seconds)',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    httpClientWait: new Histogram({
      name: 'hotpath_http_client_wait_seconds',
      help: 'Time a request waited for its job because the client asked to (Prefer: wait, ?wait=N, SSE and OpenAI streams, OpenAI synchronous answers)',
      labelNames: ['route', 'method'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    jobsTotal: new Counter({
      name: 'hotpath_jobs_total',
      help: 'Jobs by model, task, stage and outcome: stage="api" counts submissions (accepted, rejected), stage="worker" counts finished runs (completed, failed, cancelled, deadline_exceeded); sum over one stage only',
      labelNames: ['model', 'task', 'stage', 'outcome'],
      registers,
    }),
    jobDuration: new Histogram({
      name: 'hotpath_job_duration_seconds',
      help: 'End-to-end job latency, from submission to the end of its run on a worker, by outcome',
      labelNames: ['model', 'task', 'outcome'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    promptTokens: new Counter({
      name: 'hotpath_prompt_tokens_total',
      help: 'Prompt (input) tokens of finished jobs, embeddings included',
      labelNames: ['model'],
      registers,
    }),
    buildInfo: new Gauge({
      name: 'hotpath_build_info',
      help: 'Constant 1, labelled with the running Hotpath version and Node.js version',
      labelNames: ['version', 'node_version'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'hotpath_queue_depth',
      help: 'Jobs per shard queue and state (waiting, prioritized, active, delayed; fair_waiting: in the shard fair queue, not yet in BullMQ)',
      labelNames: ['model', 'shard', 'state'],
      registers,
    }),
    queueWait: new Histogram({
      name: 'hotpath_queue_wait_seconds',
      help: 'Time from enqueue to the start of processing',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    batchSize: new Histogram({
      name: 'hotpath_batch_size',
      help: 'Items per model execution',
      labelNames: ['model'],
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    }),
    inferenceDuration: new Histogram({
      name: 'hotpath_inference_duration_seconds',
      help: 'Model execution time per job',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    timeToFirstToken: new Histogram({
      name: 'hotpath_time_to_first_token_seconds',
      help: 'Time from enqueue to the first generated token',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    interTokenLatency: new Histogram({
      name: 'hotpath_inter_token_latency_seconds',
      help: 'Time between consecutive generated tokens of one sequence',
      labelNames: ['model'],
      buckets: TOKEN_BUCKETS_S,
      registers,
    }),
    tokensGenerated: new Counter({
      name: 'hotpath_tokens_generated_total',
      help: 'Generated tokens',
      labelNames: ['model'],
      registers,
    }),
    cacheRequests: new Counter({
      name: 'hotpath_cache_requests_total',
      help: 'Result cache lookups by outcome (hit, miss, coalesced, bypass)',
      labelNames: ['model', 'result'],
      registers,
    }),
    replicaBusyRatio: new Gauge({
      name: 'hotpath_replica_busy_ratio',
      help: 'Fraction of the last interval a model replica spent running the model',
      labelNames: ['model', 'replica'],
      registers,
    }),
    prefixCacheHitTokens: new Counter({
      name: 'hotpath_prefix_cache_hit_tokens_total',
      help: 'Prompt tokens served from the prefix KV cache instead of being prefilled',
      labelNames: ['model'],
      registers,
    }),
    prefixCacheLookups: new Counter({
      name: 'hotpath_prefix_cache_lookups_total',
      help: 'Prefix KV cache lookups of generations by result (hit, miss)',
      labelNames: ['model', 'result'],
      registers,
    }),
    kvArenaSlots: new Gauge({
      name: 'hotpath_kv_arena_slots',
      help: 'Sequence slots of a replica KV arena (the most sequences it batches at once)',
      labelNames: ['model', 'replica'],
      registers,
    }),
    kvArenaSlotsUsed: new Gauge({
      name: 'hotpath_kv_arena_slots_used',
      help: 'Sequence slots of a replica KV arena holding a running sequence',
      labelNames: ['model', 'replica'],
      registers,
    }),
    kvArenaBytes: new Gauge({
      name: 'hotpath_kv_arena_bytes',
      help: 'Bytes of KV cache the current layout of a replica KV arena spans (every slot at the current capacity)',
      labelNames: ['model', 'replica'],
      registers,
    }),
    kvArenaRelayouts: new Counter({
      name: 'hotpath_kv_arena_relayouts_total',
      help: 'Capacity changes (re-layouts) of the replica KV arenas',
      labelNames: ['model'],
      registers,
    }),
    prefixCacheBlocks: new Gauge({
      name: 'hotpath_prefix_cache_blocks',
      help: 'Blocks held in a replica prefix KV cache',
      labelNames: ['model', 'replica'],
      registers,
    }),
    prefixCacheBytes: new Gauge({
      name: 'hotpath_prefix_cache_bytes',
      help: 'Bytes held in a replica prefix KV cache (bounded by prefix_cache.max_bytes)',
      labelNames: ['model', 'replica'],
      registers,
    }),
    prefixCacheEvictions: new Counter({
      name: 'hotpath_prefix_cache_evictions_total',
      help: 'Blocks evicted from the replica prefix KV caches (least recently used first)',
      labelNames: ['model'],
      registers,
    }),
    fairHolds: new Counter({
      name: 'hotpath_fair_holds_total',
      help: "Slots a worker held for a tenant's next job (fair queuing anticipation), by outcome: taken (the job came in time) or expired",
      labelNames: ['model', 'outcome'],
      registers,
    }),
  };
  metrics.buildInfo.set({ version, node_version: process.version }, 1);
  return metrics;
}

/** BullMQ job states reported as `hotpath_queue_depth{state}` (what backlog autoscaling reads). */
export const QUEUE_DEPTH_STATES = ['waiting', 'prioritized', 'active', 'delayed'] as const;

/**
 * The `state` of jobs waiting in a shard's fair queue (per-tenant queues, not yet in BullMQ): with
 * fair queuing on, a backlog is mostly here, BullMQ's `waiting`/`prioritized` hold the lookahead.
 */
export const FAIR_WAITING_STATE = 'fair_waiting';

/**
 * The `state`s of a shard's direct lane (jobs on their first attempt outside BullMQ): `lane_ready`
 * waits for a worker's free slot (part of the backlog), `lane_active` runs under a lease.
 */
export const LANE_READY_STATE = 'lane_ready';
export const LANE_ACTIVE_STATE = 'lane_active';

/**
 * Sets `hotpath_queue_depth{model,shard,state}` of one shard queue from its BullMQ job counts
 * (`queue.getJobCounts(...QUEUE_DEPTH_STATES)`), its fair queue's waiting jobs and its direct
 * lane's ready and leased jobs; a state missing from `counts` reads 0.
 */
export function setQueueDepth(
  metrics: HotpathMetrics,
  model: string,
  shard: number,
  counts: Readonly<Record<string, number>>,
  fairWaiting: number,
  lane: { ready: number; leased: number } = { ready: 0, leased: 0 },
): void {
  const labels = (state: string) => ({ model, shard: String(shard), state });
  for (const state of QUEUE_DEPTH_STATES) metrics.queueDepth.set(labels(state), counts[state] ?? 0);
  metrics.queueDepth.set(labels(FAIR_WAITING_STATE), fairWaiting);
  metrics.queueDepth.set(labels(LANE_READY_STATE), lane.ready);
  metrics.queueDepth.set(labels(LANE_ACTIVE_STATE), lane.leased);
}

/** Every Hotpath metric name (docs/observability.md), for tests and dashboard validation. */
export const HOTPATH_METRIC_NAMES = [
  'hotpath_http_request_duration_seconds',
  'hotpath_http_client_wait_seconds',
  'hotpath_jobs_total',
  'hotpath_job_duration_seconds',
  'hotpath_prompt_tokens_total',
  'hotpath_build_info',
  'hotpath_queue_depth',
  'hotpath_queue_wait_seconds',
  'hotpath_batch_size',
  'hotpath_inference_duration_seconds',
  'hotpath_time_to_first_token_seconds',
  'hotpath_inter_token_latency_seconds',
  'hotpath_tokens_generated_total',
  'hotpath_cache_requests_total',
  'hotpath_replica_busy_ratio',
  'hotpath_prefix_cache_hit_tokens_total',
  'hotpath_prefix_cache_lookups_total',
  'hotpath_kv_arena_slots',
  'hotpath_kv_arena_slots_used',
  'hotpath_kv_arena_bytes',
  'hotpath_kv_arena_relayouts_total',
  'hotpath_prefix_cache_blocks',
  'hotpath_prefix_cache_bytes',
  'hotpath_prefix_cache_evictions_total',
  'hotpath_fair_holds_total',
] as const;
