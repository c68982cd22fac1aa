import { JobViewSchema, type JobStatus, type JobView } from '@hotpath/contracts';

/** One HTTP answer: status, headers, the raw text and the parsed JSON (`undefined` when not JSON). */
export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** The error shape (docs/api.md#errors): `{"error": {"code", "message", "param"}}`. */
export interface ApiError {
  code: string;
  message: string;
  param?: string | null;
}

const TERMINAL: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface SubmitOptions {
  idempotencyKey?: string;
  /** `Prefer: wait=N`. */
  preferWaitS?: number;
  timeoutMs?: number;
}

/** Describes a response for assertion messages: status plus the start of the body. */
export function describe(res: HttpResponse): string {
  return `HTTP ${res.status} ${res.text.slice(0, 600)}`;
}

/** The body as a job view (docs/api.md#jobs), validated against the contract's schema. */
export function asJob(res: HttpResponse): JobView {
  const parsed = JobViewSchema.safeParse(res.json);
  if (!parsed.success) {
    throw new Error(`response is not a job view (${parsed.error.message}): ${describe(res)}`);
  }
  return parsed.data;
}

/** The body as an error of docs/api.md#errors, validated. */
export function asError(res: HttpResponse): ApiError {
  const err = isRecord(res.json) ? res.json['error'] : undefined;
  if (
    !isRecord(err) ||
    typeof err['code'] !== 'string' ||
    typeof err['message'] !== 'string' ||
    !(err['param'] === undefined || err['param'] === null || typeof err['param'] === 'string')
  ) {
    throw new Error(`response is not an error body {"error":{"code","message","param"}}: ${describe(res)}`);
  }
  return { code: err['code'], message: err['message'], param: err['param'] };
}

/**
 * A small client for the native job API on `fetch`, with a timeout on every request.
 * The API key goes in `Authorization: Bearer <key>`.
 */
export class HotpathClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey?: string,
    private readonly defaultTimeoutMs = 15_000,
  ) {}

  /** The same API, as another tenant (or without a key). */
  withKey(apiKey: string | undefined): HotpathClient {
    return new HotpathClient(this.baseUrl, apiKey, this.defaultTimeoutMs);
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (this.apiKey) headers['authorization'] = `Bearer ${this.apiKey}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? this.defaultTimeoutMs),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  /** `POST /v1/jobs`. */
  submit(job: unknown, opts: SubmitOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = {};
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    if (opts.preferWaitS !== undefined) headers['prefer'] = `wait=${opts.preferWaitS}`;
    const timeoutMs = opts.timeoutMs ?? (opts.preferWaitS ?? 0) * 1000 + this.defaultTimeoutMs;
    return this.request('POST', '/v1/jobs', { body: job, headers, timeoutMs });
  }

  /** `POST /v1/jobs/batch`. */
  submitBatch(jobs: readonly unknown[]): Promise<HttpResponse> {
    return this.request('POST', '/v1/jobs/batch', { body: { jobs } });
  }

  /** `GET /v1/jobs/{id}`, long-polling `waitS` seconds when given. */
  getJob(id: string, waitS?: number): Promise<HttpResponse> {
    const q = waitS === undefined ? '' : `?wait=${waitS}`;
    return this.request('GET', `/v1/jobs/${encodeURIComponent(id)}${q}`, {
      timeoutMs: (waitS ?? 0) * 1000 + this.defaultTimeoutMs,
    });
  }

  /** `DELETE /v1/jobs/{id}`. */
  cancel(id: string): Promise<HttpResponse> {
    return this.request('DELETE', `/v1/jobs/${encodeURIComponent(id)}`);
  }

  /**
   * Waits (long-poll, then re-poll) until the job reaches one of `statuses`, for at most `timeoutMs`.
   * Throws with the last seen view when it does not.
   */
  async waitForStatus(id: string, statuses: readonly JobStatus[], timeoutMs: number): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    // Long-poll only for terminal targets: a long-poll returns at the end of the job, not at its start.
    const longPoll = statuses.every((s) => TERMINAL.includes(s));
    let last = 'no answer yet';
    for (;;) {
      const remainingMs = deadline - Date.now();
      const waitS = longPoll ? Math.max(0, Math.min(2, Math.floor(remainingMs / 1000))) : 0;
      try {
        const res = await this.getJob(id, waitS > 0 ? waitS : undefined);
        last = describe(res);
        if (res.status === 200) {
          const job = asJob(res);
          if (statuses.includes(job.status)) return job;
        }
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `job ${id} did not reach ${statuses.join('|')} within ${timeoutMs} ms; last: ${last}`,
        );
      }
      // A long-poll that returned early with a non-terminal job is fine; avoid a hot loop otherwise.
      if (waitS === 0) await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until the job is finished (completed, failed or cancelled). */
  waitForTerminal(id: string, timeoutMs: number): Promise<JobView> {
    return this.waitForStatus(id, TERMINAL, timeoutMs);
  }
}
