import { HotpathClient, LONG_WAIT_S, type SseReader } from '@hotpath/job-client';
import { readToEnd } from '../cache/job-http';
import type { Sample, Sender } from '../load-generator';
import type { BenchPrompt } from './prompt-set';

/** The parts of a job view this client reads. */
interface JobViewLike {
  id?: string;
  status?: string;
  usage?: { completion_tokens?: number } | null;
  error?: { code?: string; message?: string } | null;
}

/** How an HTTP sender learns that a job finished. */
export interface HttpJobClientState {
  /**
   * Whether `GET /v1/jobs/{id}/events` exists; unknown until the first job. Without it the client
   * long-polls `GET /v1/jobs/{id}?wait=N` and TTFT is not measured (null), never guessed.
   */
  sse: boolean | undefined;
}

/** A followed job's end: its final view and when its first `token` event arrived. */
interface Followed {
  view: JobViewLike;
  firstTokenAt: number | undefined;
}

/** Reads a job's event stream to its `done` (or throws on `error` and on a stream without end). */
async function readToDone(reader: SseReader): Promise<Followed> {
  const { end, firstTokenAt } = await readToEnd(reader);
  if (end?.event === 'done') return { view: JSON.parse(end.data) as JobViewLike, firstTokenAt };
  if (end?.event === 'error') {
    const err = JSON.parse(end.data) as { error?: { code?: string } };
    throw new Error(err.error?.code ?? 'job failed');
  }
  throw new Error('event stream ended without done');
}

/**
 * Follows a submitted job's SSE stream (`GET /v1/jobs/{id}/events`) to its end; `undefined` when
 * the route does not exist (404, not an event stream).
 */
async function follow(client: HotpathClient, id: string): Promise<Followed | undefined> {
  const res = await client.events(id);
  if (res.status === 404 && !res.reader) return undefined;
  if (!res.reader) throw new Error(`events: HTTP ${res.status}`);
  return readToDone(res.reader);
}

/** A `POST /v1/jobs` answer: a stream of the job's events, or the job view (an API without streams). */
type Submitted = { followed: Followed } | { view: JobViewLike };

/**
 * Load-generator sender for a Hotpath cluster. Generate jobs are submitted and followed in one
 * request (`POST /v1/jobs` with `Accept: text/event-stream`, cache bypassed): TTFT is the first
 * `token` event, the end its `done`. An API that answers that POST with a JSON job view instead is
 * followed on `GET /v1/jobs/{id}/events`, and one without that route is long-polled (`state.sse`
 * becomes false). The i-th call sends `body(i)`.
 */
export function httpJobSender(
  apiBase: string,
  body: (i: number) => Record<string, unknown>,
  generates: boolean,
  state: HttpJobClientState,
): Sender {
  const client = new HotpathClient(apiBase);
  let n = 0;
  const submit = async (payload: Record<string, unknown>): Promise<Submitted> => {
    if (!generates || state.sse === false) {
      const res = await client.submit(payload, state.sse === false ? { preferWaitS: LONG_WAIT_S } : {});
      const view = (res.json ?? {}) as JobViewLike;
      if (res.status !== 200 && res.status !== 202)
        throw new Error(`HTTP ${res.status} ${view.error?.code ?? ''}`.trim());
      return { view };
    }
    const res = await client.submitStreaming(payload);
    if (res.reader) {
      state.sse = true;
      return { followed: await readToDone(res.reader) };
    }
    const view = (JSON.parse(res.text || '{}') ?? {}) as JobViewLike;
    if (res.status !== 200 && res.status !== 202)
      throw new Error(`HTTP ${res.status} ${view.error?.code ?? ''}`.trim());
    return { view };
  };
  return async (origin) => {
    const i = n++;
    const fail = (error: string): Sample => ({ ok: false, latencyMs: performance.now() - origin, error });
    try {
      // A job this sender will follow says so (`stream`): its worker writes the events from the
      // first token.
      const follows = generates && state.sse !== false;
      const submitted = await submit(follows ? { ...body(i), stream: true } : body(i));
      let followed = 'followed' in submitted ? submitted.followed : undefined;
      let view = followed?.view ?? ('view' in submitted ? submitted.view : {});
      if (!followed && state.sse !== false && view.id && view.status !== 'completed') {
        followed = await follow(client, view.id);
        if (followed) {
          state.sse = true;
          view = followed.view;
        } else {
          state.sse = false;
        }
      }
      if (!followed && view.status !== 'completed') view = await client.untilFinished(view);
      const latencyMs = performance.now() - origin;
      if (view.status !== 'completed')
        return { ...fail(view.error?.code ?? view.status ?? 'unknown'), latencyMs };
      const ttftMs = followed?.firstTokenAt !== undefined ? followed.firstTokenAt - origin : undefined;
      return {
        ok: true,
        latencyMs,
        ...(generates && ttftMs !== undefined ? { ttftMs } : {}),
        ...(generates ? { tokens: view.usage?.completion_tokens ?? 0 } : {}),
      };
    } catch (err) {
      return fail((err as Error).message);
    }
  };
}

/** Body of the i-th generate job: prompts walked in order, greedy, result cache bypassed. */
export function generateJobBody(
  model: string,
  prompts: readonly BenchPrompt[],
): (i: number) => Record<string, unknown> {
  return (i) => {
    const p = prompts[i % prompts.length] as BenchPrompt;
    return {
      model,
      task: 'generate',
      input: { prompt: p.prompt },
      params: { max_tokens: p.maxTokens, temperature: 0 },
      cache: 'bypass',
    };
  };
}

/** Body of the i-th embed job: one text each. */
export function embedJobBody(
  model: string,
  texts: readonly string[],
): (i: number) => Record<string, unknown> {
  return (i) => ({ model, task: 'embed', input: { texts: [texts[i % texts.length]] }, cache: 'bypass' });
}
