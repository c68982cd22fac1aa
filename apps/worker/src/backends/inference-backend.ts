import type { CpuPlacement } from '@hotpath/model-runtime';
import type { Context, HotpathMetrics, Logger } from '@hotpath/telemetry';
import type {
  EmbedResult,
  GenerateResult,
  QueuedEmbedJob,
  QueuedGenerateJob,
  Usage,
} from '@hotpath/contracts';

/** A token as it is produced, for streaming (SSE, OpenAI streams). */
export interface TokenEvent {
  index: number;
  text: string;
  token_id: number;
}

/** What a backend gets besides the job: cancellation and a per-token callback. */
export interface RunContext {
  /** Aborted on client cancellation, deadline expiry or worker shutdown hand-back. */
  signal: AbortSignal;
  /** The job's trace context (its CONSUMER span): annotated with GenAI attributes; batch spans link to it. */
  trace?: Context;
  onToken?: (token: TokenEvent) => void;
}

/** A backend's answer for one job, with the measurements that feed `timings_ms` and metrics. */
export interface BackendOutput<R> {
  result: R;
  usage: Usage | null;
  /** Time the job waited in the batcher before its batch ran. */
  batchWaitMs: number;
  /** Time of the model execution(s) that served it. */
  inferenceMs: number;
  /** Items in the batch that served it (1 when unbatched). */
  batchSize: number;
  /** Leading prompt tokens whose KV came from a replica's prefix cache (generate on onnx only). */
  prefixHitTokens?: number;
}

/**
 * One served model inside the worker. The processor hands each parsed job to `generate` or `embed`;
 * batching, replicas and threads are the backend's business. Implementations: `sim` (no CPU, a
 * latency model) and `onnx` (onnxruntime-node replicas in worker threads).
 */
export interface InferenceBackend {
  readonly model: string;
  /**
   * Content digest of the model version being served, known after `start()`. Result-cache keys
   * include it, so a new version never serves the old one's entries.
   */
  readonly digest?: string;
  /** Loads and warms up; the worker takes no jobs for the model before it resolves. */
  start(): Promise<void>;
  generate(job: QueuedGenerateJob, ctx: RunContext): Promise<BackendOutput<GenerateResult>>;
  embed(job: QueuedEmbedJob, ctx: RunContext): Promise<BackendOutput<EmbedResult>>;
  /** Stops accepting work, lets running work finish, frees replicas. Idempotent. */
  close(): Promise<void>;
}

/** What a backend may use from the worker besides its model config. */
export interface BackendDeps {
  logger: Logger;
  /** The worker's metrics, for what only a backend sees (prefix-cache hits, replica busy ratio). */
  metrics: HotpathMetrics;
  /** Cores for single-thread replicas; one per process, shared by every model's replicas. */
  cpuPlacement?: CpuPlacement;
}
