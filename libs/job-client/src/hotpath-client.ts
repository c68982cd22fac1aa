import { JobViewSchema, type JobStatus, type JobView } from '@hotpath/contracts';
import { openRequest, sendRequest, type HttpResponse, type TransportRequest } from './http-transport';
import { SseReader } from './sse';

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

/** `Prefer: wait` / `?wait=` seconds of {@link HotpathClient.submitAndWait} and {@link HotpathClient.untilFinished}. */
export const LONG_WAIT_S = 120;

/** The fields of a job view a long-poll follows. */
export interface PolledView {
  id?: string;
  status?: string;
}

/** A job's event stream, opened: `reader` is set when the API answered 200 `text/event-stream`. */
export interface JobEventsResponse {
  status: number;
  headers: Headers;
  /** The events; `undefined` when the answer is not a stream (then `text` holds its body). */
  reader: SseReader | undefined;
  text: string;
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
 * The client of the native job API (docs/api.md): submit, `Prefer: wait` and long-polls, the SSE
 * job events, cancel. Every request has a deadline and goes through one keep-alive pool. The API
 * key goes in `Authorization: Bearer <key>`. Responses are returned whole (status, headers, text,
 * JSON) so tests can assert on refusals; {@link asJob} and {@link asError} read them against the
 * contracts.
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

  private headers(extra: Record<string, string> | undefined): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (this.apiKey) headers['authorization'] = `Bearer ${this.apiKey}`;
    return headers;
  }

  request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const headers = this.headers(opts.headers);
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    return sendRequest(new URL(path, this.baseUrl), {
      method,
      headers,
      body,
      timeoutMs: opts.timeoutMs ?? this.defaultTimeoutMs,
    });
  }

  /** `POST /v1/jobs`. */
  submit(job: unknown, opts: SubmitOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = {};
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    if (opts.preferWaitS !== undefined) headers['prefer'] = `wait=${opts.preferWaitS}`;
    const timeoutMs = opts.timeoutMs ?? (opts.preferWaitS ?? 0) * 1000 + this.defaultTimeoutMs;
    return this.request('POST', '/v1/jobs', { body: job, headers, timeoutMs });
  }

  /**
   * `POST /v1/jobs` with `Accept: text/event-stream`: submits and follows in one request. A `200`
   * stream carries the job's events (as {@link events}) and its id in `x-job-id`; a refusal (or an
   * API without this answer) is returned whole in `text`, with `reader` unset.
   */
  submitStreaming(
    job: unknown,
    opts: { idempotencyKey?: string; timeoutMs?: number } = {},
  ): Promise<JobEventsResponse> {
    const headers = this.headers({ accept: 'text/event-stream', 'content-type': 'application/json' });
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    return openStream(new URL('/v1/jobs', this.baseUrl), {
      method: 'POST',
      headers,
      body: JSON.stringify(job),
      timeoutMs: opts.timeoutMs ?? LONG_WAIT_S * 1000,
    });
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

  /**
   * `POST /v1/jobs` with `Prefer: wait=120`; a job that outlives the wait is followed with
   * {@link untilFinished}. Resolves with the submission's answer and the last job view (the
   * submission's own body when it was refused). `V` names the fields the caller reads: a bench
   * may measure a cluster of another version, so it does not insist on today's full view.
   */
  async submitAndWait<V extends PolledView = Partial<JobView>>(
    job: unknown,
  ): Promise<{ submitted: HttpResponse; view: V }> {
    const submitted = await this.submit(job, { preferWaitS: LONG_WAIT_S });
    const first = (submitted.json ?? {}) as V;
    if (submitted.status !== 200 && submitted.status !== 202) return { submitted, view: first };
    return { submitted, view: await this.untilFinished(first) };
  }

  /**
   * Follows a job that is still `queued` or `running` with `GET /v1/jobs/{id}?wait=120`, at most
   * three times, and returns the last view; throws "job did not finish in time" when it still has
   * not ended.
   */
  async untilFinished<V extends PolledView>(first: V): Promise<V> {
    let view = first;
    for (let polls = 0; view.status === 'queued' || view.status === 'running'; polls++) {
      if (polls >= 3 || !view.id) throw new Error('job did not finish in time');
      view = ((await this.getJob(view.id, LONG_WAIT_S)).json ?? {}) as V;
    }
    return view;
  }

  /**
   * `GET /v1/jobs/{id}/events`: the job's Server-Sent Events (`status`, `token`, `done`, `error`).
   * `lastEventId` resumes after that event; `timeoutMs` bounds the whole stream.
   */
  events(id: string, opts: { lastEventId?: string; timeoutMs?: number } = {}): Promise<JobEventsResponse> {
    const headers = this.headers({ accept: 'text/event-stream' });
    if (opts.lastEventId) headers['last-event-id'] = opts.lastEventId;
    return openStream(new URL(`/v1/jobs/${encodeURIComponent(id)}/events`, this.baseUrl), {
      method: 'GET',
      headers,
      timeoutMs: opts.timeoutMs ?? LONG_WAIT_S * 1000,
    });
  }
}

/** Sends a request whose answer may be an event stream: a reader on a `200` stream, else the text. */
async function openStream(url: URL, req: TransportRequest): Promise<JobEventsResponse> {
  const res = await openRequest(url, req);
  if (res.status === 200 && (res.headers.get('content-type') ?? '').includes('text/event-stream'))
    return { status: res.status, headers: res.headers, reader: new SseReader(res.body), text: '' };
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return {
    status: res.status,
    headers: res.headers,
    reader: undefined,
    text: Buffer.concat(chunks).toString('utf8'),
  };
}
