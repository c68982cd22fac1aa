import { HttpException } from '@nestjs/common';
import { ErrorCode, HotpathError, type ErrorBody } from '@hotpath/contracts';
import { isRedisConnectionError } from './redis-errors';

/** An error as it goes on the wire: status, body (the docs/api.md#errors shape) and extra headers. */
export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.InvalidInput]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.ModelNotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.Cancelled]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.QueueFull]: 429,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.InferenceFailed]: 500,
  [ErrorCode.InvalidConfig]: 500,
  [ErrorCode.InvalidModel]: 500,
  [ErrorCode.Internal]: 500,
  [ErrorCode.RedisUnavailable]: 503,
  [ErrorCode.WorkerShutdown]: 503,
  [ErrorCode.ModelUnavailable]: 503,
  [ErrorCode.Capacity]: 503,
  [ErrorCode.DeadlineExceeded]: 504,
};

/** Seconds clients are told to wait when a 429 or 503 does not say otherwise. */
export const DEFAULT_RETRY_AFTER_S = { 429: 1, 503: 2 } as const;

/** The HTTP status of a domain error code. The only place codes become statuses. */
export function statusForCode(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** The code a plain HTTP status stands for (Nest and Fastify errors carry statuses, not codes). */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return ErrorCode.Unauthorized;
    case 403:
      return ErrorCode.Forbidden;
    case 404:
      return ErrorCode.NotFound;
    case 409:
      return ErrorCode.Conflict;
    case 413:
      return ErrorCode.PayloadTooLarge;
    case 429:
      return ErrorCode.QueueFull;
    case 503:
      return ErrorCode.RedisUnavailable;
    default:
      return status >= 400 && status < 500 ? ErrorCode.InvalidRequest : ErrorCode.Internal;
  }
}

/**
 * Maps any thrown value to its response. Unknown errors become a bare 500 `internal_error`: their
 * message may hold internals, so it never reaches the client (the filter logs it instead).
 */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof HotpathError) {
    const res = build(statusForCode(err.code), err.code, err.message, err.param, err.retryAfterS);
    // Rate-limit refusals carry OpenAI's x-ratelimit-* headers.
    const extra = (err as { headers?: unknown }).headers;
    if (extra && typeof extra === 'object') Object.assign(res.headers, extra);
    return res;
  }
  // Checked first: a request stream the client reset carries ECONNRESET too, and is not Redis.
  if (isClientAbort(err)) {
    return build(400, ErrorCode.InvalidRequest, 'the request body was not received whole');
  }
  if (isRedisConnectionError(err)) {
    return build(503, ErrorCode.RedisUnavailable, 'Redis is unavailable; retry later');
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    return build(status, codeForStatus(status), httpMessage(err, status));
  }
  return build(500, ErrorCode.Internal, 'internal error');
}

/** The error a request body stream raises when its client closed the connection mid-body. */
function isClientAbort(err: unknown): boolean {
  return (
    err instanceof Error && err.message === 'aborted' && (err as { code?: unknown }).code === 'ECONNRESET'
  );
}

function build(
  status: number,
  code: ErrorCode,
  message: string,
  param?: string,
  retryAfterS?: number,
): ErrorResponse {
  const headers: Record<string, string> = {};
  if (status === 429 || status === 503) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterS ?? DEFAULT_RETRY_AFTER_S[status])));
  }
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  const error: ErrorBody['error'] = { code, message };
  if (param !== undefined) error.param = param;
  return { status, body: { error }, headers };
}

function httpMessage(err: HttpException, status: number): string {
  if (status === 413) return 'request body is too large';
  if (status >= 500) return 'internal error';
  const res = err.getResponse();
  if (typeof res === 'string') return res;
  const m = (res as { message?: unknown }).message;
  if (typeof m === 'string') return m;
  if (Array.isArray(m)) return m.map(String).join('; ');
  return err.message;
}

/** Routes of the OpenAI-compatible API, whose clients expect OpenAI's error body. */
const OPENAI_ROUTE =
  /^(\/v1\/(completions|chat\/completions|embeddings|models)|\/(tokenize|detokenize))(\/|\?|$)/;

/**
 * The response of an error on `url`: OpenAI's shape on the OpenAI-compatible routes, ours
 * elsewhere; decided by URL so errors raised before routing match too. Statuses are the same.
 */
export function errorResponseForUrl(url: string, err: unknown): ErrorResponse | OpenAiErrorResponse {
  return OPENAI_ROUTE.test(url) ? toOpenAiErrorResponse(err) : toErrorResponse(err);
}

/** OpenAI's error body (docs/openai.md#errors: the OpenAI-compatible routes use OpenAI's error shape). */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error as the OpenAI-compatible routes send it. */
export interface OpenAiErrorResponse {
  status: number;
  body: OpenAiErrorBody;
  headers: Record<string, string>;
}

/** OpenAI's error `type` for a status. */
export function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/**
 * Maps any thrown value to OpenAI's shape `{"error": {"message", "type", "param", "code"}}`, with the
 * same status and headers as {@link toErrorResponse}. `code` is the domain code (`model_not_found`,
 * `queue_full`, ...) unless the error carries a more specific OpenAI code (`openAiCode`, e.g.
 * `unsupported_parameter`).
 */
export function toOpenAiErrorResponse(err: unknown): OpenAiErrorResponse {
  const res = toErrorResponse(err);
  const e = res.body.error;
  const specific = err instanceof HotpathError ? (err as { openAiCode?: unknown }).openAiCode : undefined;
  return {
    status: res.status,
    headers: res.headers,
    body: {
      error: {
        message: e.message,
        type: openAiErrorType(res.status),
        param: e.param ?? null,
        code: typeof specific === 'string' ? specific : e.code,
      },
    },
  };
}
