import { HotpathClient } from '@hotpath/job-client';
import type { Sample, Sender } from './load-generator';
import { promValue, scrapeMetrics } from './prom-text';

/** What the bench sends for one scenario. */
export interface JobSpec {
  model: string;
  task: 'generate' | 'embed';
  maxTokens?: number;
}

/** The request body of the i-th job (varied text, so nothing is served from a cache). */
export function jobBody(spec: JobSpec, i: number): Record<string, unknown> {
  const common = { model: spec.model, task: spec.task, cache: 'bypass' };
  if (spec.task === 'embed') {
    return { ...common, input: { texts: [`benchmark sentence number ${i} about a quick brown fox`] } };
  }
  return {
    ...common,
    input: { prompt: `Once upon a time, request ${i} went to the market` },
    params: { ...(spec.maxTokens !== undefined ? { max_tokens: spec.maxTokens } : {}), temperature: 0 },
  };
}

/** The parts of a job view the bench reads. */
interface JobViewLike {
  id?: string;
  status?: string;
  usage?: { completion_tokens?: number } | null;
  timings_ms?: Record<string, unknown> | null;
  error?: { code?: string } | null;
}

/**
 * Time to first token from a finished job, when its `timings_ms` carries one (`ttft` or
 * `first_token`); undefined otherwise: the bench never guesses it from total time.
 */
export function ttftFrom(view: JobViewLike): number | undefined {
  const t = view.timings_ms;
  if (!t) return undefined;
  for (const k of ['ttft', 'first_token', 'time_to_first_token']) {
    const v = t[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

/**
 * A load-generator sender: `POST /v1/jobs` with `Prefer: wait=120`, following up with
 * `GET /v1/jobs/{id}?wait=120` if the job outlives the wait. A sample is ok when the job completed.
 */
export function jobSender(apiBase: string, spec: JobSpec): Sender {
  const client = new HotpathClient(apiBase);
  let n = 0;
  return async (origin) => {
    const i = n++;
    const fail = (error: string): Sample => ({ ok: false, latencyMs: performance.now() - origin, error });
    try {
      const { submitted, view } = await client.submitAndWait<JobViewLike>(jobBody(spec, i));
      if (submitted.status !== 200 && submitted.status !== 202) return fail(`HTTP ${submitted.status}`);
      const latencyMs = performance.now() - origin;
      if (view.status !== 'completed')
        return { ...fail(view.error?.code ?? view.status ?? 'unknown'), latencyMs };
      return {
        ok: true,
        latencyMs,
        ttftMs: ttftFrom(view),
        tokens: spec.task === 'generate' ? (view.usage?.completion_tokens ?? 0) : undefined,
      };
    } catch (err) {
      return fail((err as Error).message);
    }
  };
}

/** `hotpath_batch_size` sum and count of `model` from the worker's `/metrics`. */
export async function scrapeBatchSize(
  metricsBase: string,
  model: string,
): Promise<{ sum: number; count: number }> {
  const text = await scrapeMetrics(metricsBase);
  return {
    sum: promValue(text, 'hotpath_batch_size_sum', { model }),
    count: promValue(text, 'hotpath_batch_size_count', { model }),
  };
}
