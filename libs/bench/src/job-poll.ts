import { requestJson } from './http-json';

/** `Prefer: wait` / `?wait=` seconds every bench client asks for. */
export const JOB_WAIT_S = 120;
/** Client-side bound of one such request (the wait plus slack). */
export const JOB_TIMEOUT_MS = (JOB_WAIT_S + 10) * 1000;

/** The fields of a job view the long-poll needs. */
interface PolledView {
  id?: string;
  status?: string;
}

/**
 * Follows a job that outlived its `Prefer: wait` with `GET /v1/jobs/{id}?wait=120`, at most three
 * times, and returns the last view (finished, or not when the job failed to end in time: then it
 * throws "job did not finish in time").
 */
export async function longPollJob<V extends PolledView>(apiBase: string, first: V): Promise<V> {
  let view = first;
  for (let polls = 0; view.status === 'queued' || view.status === 'running'; polls++) {
    if (polls >= 3 || !view.id) throw new Error('job did not finish in time');
    const res = await requestJson<V>(`${apiBase}/v1/jobs/${view.id}?wait=${JOB_WAIT_S}`, {
      timeoutMs: JOB_TIMEOUT_MS,
    });
    view = res.body ?? ({} as V);
  }
  return view;
}
