import { HotpathClient, LONG_WAIT_S } from '@hotpath/job-client';
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

/**
 * Follows a job's SSE stream to its end. Resolves with the final view and the time of the first
 * `token` event, or `undefined` when the route does not exist (404, not an event stream).
 */
async function follow(
  client: HotpathClient,
  id: string,
): Promise<{ view: JobViewLike; firstTokenAt: number | undefined } | undefined> {
  const res = await client.events(id);
  if (res.status === 404 && !res.reader) return undefined;
  if (!res.reader) throw new Error(`events: HTTP ${res.status}`);
  let firstTokenAt: number | undefined;
  try {
    for (let batch = await res.reader.next(); batch; batch = await res.reader.next()) {
      for (const e of batch) {
        if (e.event === 'token') firstTokenAt ??= performance.now();
        else if (e.event === 'done') {
          await res.reader.close();
          return { view: JSON.parse(e.data) as JobViewLike, firstTokenAt };
        } else if (e.event === 'error') {
          const err = JSON.parse(e.data) as { error?: { code?: string } };
          throw new Error(err.error?.code ?? 'job failed');
        }
      }
    }
  } finally {
    await res.reader.cancel();
  }
  throw new Error('event stream ended without done');
}

/**
 * Load-generator sender for a Hotpath cluster: `POST /v1/jobs` (cache bypassed), then the job's SSE
 * stream for TTFT (first `token` event) and completion; the i-th call sends `body(i)`. Falls back to
 * long-polling when the cluster has no SSE route (`state.sse` becomes false).
 */
export function httpJobSender(
  apiBase: string,
  body: (i: number) => Record<string, unknown>,
  generates: boolean,
  state: HttpJobClientState,
): Sender {
  const client = new HotpathClient(apiBase);
  let n = 0;
  return async (origin) => {
    const i = n++;
    const fail = (error: string): Sample => ({ ok: false, latencyMs: performance.now() - origin, error });
    try {
      // A job this sender will follow says so (`stream`): its worker writes the events from the first
      // token, and the API's stream needs no watch announcement.
      const follows = generates && state.sse !== false;
      const payload = follows ? { ...body(i), stream: true } : body(i);
      const res = await client.submit(payload, state.sse === false ? { preferWaitS: LONG_WAIT_S } : {});
      const first = (res.json ?? {}) as JobViewLike;
      if (res.status !== 200 && res.status !== 202)
        return fail(`HTTP ${res.status} ${first.error?.code ?? ''}`.trim());
      let view = first;
      let ttftMs: number | undefined;
      if (state.sse !== false && first.id && first.status !== 'completed') {
        const followed = await follow(client, first.id);
        if (followed) {
          state.sse = true;
          view = followed.view;
          if (followed.firstTokenAt !== undefined) ttftMs = followed.firstTokenAt - origin;
        } else {
          state.sse = false;
          view = await client.untilFinished(first);
        }
      } else {
        view = await client.untilFinished(first);
      }
      const latencyMs = performance.now() - origin;
      if (view.status !== 'completed')
        return { ...fail(view.error?.code ?? view.status ?? 'unknown'), latencyMs };
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
