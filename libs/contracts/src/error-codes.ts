/**
 * Every domain error carries one of these codes. Only `apps/api` maps them to HTTP statuses
 * (see its exception filter); libraries and the worker speak codes, never statuses.
 */
export const ErrorCode = {
  InvalidRequest: 'invalid_request',
  PayloadTooLarge: 'payload_too_large',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  ModelNotFound: 'model_not_found',
  /** A configured model (or the job's shard of it) has no live worker right now. */
  ModelUnavailable: 'model_unavailable',
  Conflict: 'conflict',
  QueueFull: 'queue_full',
  /** A tenant's rate limit or quota (requests/s, tokens/min, max_queued) refused the request. */
  RateLimited: 'rate_limit_exceeded',
  RedisUnavailable: 'redis_unavailable',
  DeadlineExceeded: 'deadline_exceeded',
  Cancelled: 'cancelled',
  InvalidInput: 'invalid_input',
  InferenceFailed: 'inference_failed',
  WorkerShutdown: 'worker_shutdown',
  InvalidConfig: 'invalid_config',
  InvalidModel: 'invalid_model',
  /** A replica's KV arena has no free sequence slot or positions left (a scheduler bound was bypassed). */
  Capacity: 'capacity',
  Internal: 'internal_error',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const KNOWN_CODES: ReadonlySet<unknown> = new Set(Object.values(ErrorCode));

/**
 * Whether a value that crossed a boundary the type system does not see (a worker thread's message,
 * a stored job record) is one of the {@link ErrorCode}s. A thrown Node error carries a `code` too
 * (`ENOENT`), which must not pass for a domain code.
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return KNOWN_CODES.has(value);
}

/** `value` when it is an {@link ErrorCode}, else `fallback`. */
export function toErrorCode(value: unknown, fallback: ErrorCode): ErrorCode {
  return isErrorCode(value) ? value : fallback;
}

/** A domain error: a code from {@link ErrorCode}, a message for humans, and optionally the offending field. */
export class HotpathError extends Error {
  override readonly name = 'HotpathError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param?: string,
    /** Seconds a client should wait before retrying (backpressure, dependency down). */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

/** The wire shape of an error, as docs/api.md#errors fixes it. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; param?: string };
}
