import { requestJson } from '../http-json';
import { JOB_TIMEOUT_MS, JOB_WAIT_S, longPollJob } from '../job-poll';

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

/** `POST /v1/jobs` with `Prefer: wait=120`, following up with `?wait=120` until the job ends. */
export async function submitAndWait(apiBase: string, body: unknown): Promise<Submitted> {
  const t0 = performance.now();
  const res = await requestJson<JobViewLike>(`${apiBase}/v1/jobs`, {
    body,
    headers: { prefer: `wait=${JOB_WAIT_S}` },
    timeoutMs: JOB_TIMEOUT_MS,
    readHeader: 'x-cache',
  });
  let view = res.body ?? {};
  const xCache = res.header ?? null;
  if (res.status !== 200 && res.status !== 202)
    throw new Error(`POST /v1/jobs answered ${res.status}: ${JSON.stringify(view).slice(0, 300)}`);
  view = await finish(apiBase, view);
  return { status: res.status, xCache, view, clientMs: performance.now() - t0 };
}

async function finish(apiBase: string, first: JobViewLike): Promise<JobViewLike> {
  const view = await longPollJob(apiBase, first);
  if (view.status !== 'completed')
    throw new Error(`job ${view.id ?? '?'} ended ${view.status}: ${view.error?.message ?? ''}`);
  return view;
}

/** A streamed submission: client-side time to the first `token` event (null when SSE is unavailable). */
export interface Streamed {
  view: JobViewLike;
  clientTtftMs: number | null;
  clientMs: number;
}

/**
 * `POST /v1/jobs` (no wait), then `GET /v1/jobs/{id}/events` (SSE) until `done`/`error`, timing the
 * first `token` event from the POST; then reads the finished job.
 */
export async function submitAndStream(apiBase: string, body: unknown): Promise<Streamed> {
  const t0 = performance.now();
  const res = await fetch(`${apiBase}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const accepted = (await res.json()) as JobViewLike;
  if ((res.status !== 200 && res.status !== 202) || !accepted.id)
    throw new Error(`POST /v1/jobs answered ${res.status}: ${JSON.stringify(accepted).slice(0, 300)}`);
  let clientTtftMs: number | null = null;
  const events = await fetch(`${apiBase}/v1/jobs/${accepted.id}/events`, {
    headers: { accept: 'text/event-stream' },
    signal: AbortSignal.timeout(JOB_TIMEOUT_MS),
  }).catch(() => null);
  if (events?.ok && events.body) {
    const reader = events.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        if (clientTtftMs === null && /(^|\n)event: token\n/.test(buffered))
          clientTtftMs = performance.now() - t0;
        if (/(^|\n)event: (done|error)\n/.test(buffered)) break;
        // Keep only the tail: event names are all the bench looks for.
        if (buffered.length > 4096) buffered = buffered.slice(-256);
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  } else {
    await events?.body?.cancel().catch(() => undefined);
  }
  const view = await finish(apiBase, { id: accepted.id, status: 'queued' });
  return { view, clientTtftMs, clientMs: performance.now() - t0 };
}
