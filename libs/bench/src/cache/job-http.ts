import { HotpathClient, type SseEvent, type SseReader } from '@hotpath/job-client';

/** The parts of a job view the cache and tracing benches read. */
export interface JobViewLike {
  id?: string;
  status?: string;
  result?: { text?: string; tokens?: number[] } | null;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  timings_ms?: Record<string, number> | null;
  error?: { code?: string; message?: string } | null;
}

/** One submission as the client saw it. */
export interface Submitted {
  status: number;
  xCache: string | null;
  view: JobViewLike;
  /** Client-side milliseconds from sending the POST to its finished answer. */
  clientMs: number;
}

function finished(view: JobViewLike): JobViewLike {
  if (view.status !== 'completed')
    throw new Error(`job ${view.id ?? '?'} ended ${view.status}: ${view.error?.message ?? ''}`);
  return view;
}

/** `POST /v1/jobs` with `Prefer: wait=120`, following up with `?wait=120` until the job ends. */
export async function submitAndWait(apiBase: string, body: unknown): Promise<Submitted> {
  const t0 = performance.now();
  const { submitted, view } = await new HotpathClient(apiBase).submitAndWait<JobViewLike>(body);
  if (submitted.status !== 200 && submitted.status !== 202)
    throw new Error(`POST /v1/jobs answered ${submitted.status}: ${submitted.text.slice(0, 300)}`);
  return {
    status: submitted.status,
    xCache: submitted.headers.get('x-cache'),
    view: finished(view),
    clientMs: performance.now() - t0,
  };
}

/** A streamed submission: client-side time to the first `token` event (null when SSE is unavailable). */
export interface Streamed {
  view: JobViewLike;
  clientTtftMs: number | null;
  clientMs: number;
}

/** How a job's event stream ended: its `done` / `error` event (none: the stream broke off). */
export interface StreamEnd {
  end: SseEvent | undefined;
  /** `performance.now()` of the first `token` event. */
  firstTokenAt: number | undefined;
}

/**
 * Reads a job's event stream to its `done` or `error` event, then lets the response end so the
 * keep-alive connection is reused ({@link SseReader.close}); a stream that broke off is cancelled.
 */
export async function readToEnd(reader: SseReader): Promise<StreamEnd> {
  let firstTokenAt: number | undefined;
  let end: SseEvent | undefined;
  try {
    reading: for (let batch = await reader.next(); batch; batch = await reader.next()) {
      for (const e of batch) {
        if (e.event === 'token') firstTokenAt ??= performance.now();
        if (e.event === 'done' || e.event === 'error') {
          end = e;
          break reading;
        }
      }
    }
  } finally {
    await (end ? reader.close() : reader.cancel());
  }
  return { end, firstTokenAt };
}

/**
 * `POST /v1/jobs` (no wait), then `GET /v1/jobs/{id}/events` (SSE) until `done`/`error`, timing the
 * first `token` event from the POST; then reads the finished job.
 */
export async function submitAndStream(apiBase: string, body: unknown): Promise<Streamed> {
  const client = new HotpathClient(apiBase, undefined, 30_000);
  const t0 = performance.now();
  const res = await client.submit(body);
  const accepted = (res.json ?? {}) as JobViewLike;
  if ((res.status !== 200 && res.status !== 202) || !accepted.id)
    throw new Error(`POST /v1/jobs answered ${res.status}: ${res.text.slice(0, 300)}`);
  let clientTtftMs: number | null = null;
  const events = await client.events(accepted.id).catch(() => undefined);
  if (events?.reader) {
    const { firstTokenAt } = await readToEnd(events.reader);
    if (firstTokenAt !== undefined) clientTtftMs = firstTokenAt - t0;
  }
  const view = await client.untilFinished<JobViewLike>({ id: accepted.id, status: 'queued' });
  return { view: finished(view), clientTtftMs, clientMs: performance.now() - t0 };
}

/**
 * Submits and follows in one request (`POST /v1/jobs` with `Accept: text/event-stream`) to the
 * job's `done`; an API that answers that with a JSON job view instead is followed as
 * {@link submitAndStream} does, with `GET /v1/jobs/{id}/events`.
 */
export async function submitStreaming(apiBase: string, body: unknown): Promise<JobViewLike> {
  const client = new HotpathClient(apiBase, undefined, 30_000);
  const res = await client.submitStreaming(body);
  if (!res.reader) {
    if (res.status !== 200 && res.status !== 202)
      throw new Error(`POST /v1/jobs answered ${res.status}: ${res.text.slice(0, 300)}`);
    const view = JSON.parse(res.text) as JobViewLike;
    const events = view.id ? await client.events(view.id) : undefined;
    if (events?.reader) await events.reader.rest();
    return finished(await client.untilFinished<JobViewLike>({ id: view.id ?? '', status: 'queued' }));
  }
  const { end } = await readToEnd(res.reader);
  if (end?.event !== 'done') throw new Error(`the job's stream ended with ${end?.event ?? 'nothing'}`);
  return finished(JSON.parse(end.data) as JobViewLike);
}
