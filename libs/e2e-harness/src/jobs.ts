import type { JobRequestInput } from '@hotpath/contracts';

type Common = Omit<Partial<JobRequestInput>, 'task' | 'input' | 'params'>;

/** A `generate` job body for `model`; the prompt is unique per call unless given. */
export function generateJob(
  model: string,
  extra: Common & { prompt?: string; params?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const { prompt, params, ...rest } = extra;
  return {
    model,
    task: 'generate',
    input: { prompt: prompt ?? `e2e prompt ${Math.random().toString(36).slice(2)}` },
    params: { max_tokens: 8, ...params },
    cache: 'bypass',
    ...rest,
  };
}

/** An `embed` job body for `model`. */
export function embedJob(
  model: string,
  texts: readonly string[],
  extra: Common = {},
): Record<string, unknown> {
  return { model, task: 'embed', input: { texts: [...texts] }, cache: 'bypass', ...extra };
}
