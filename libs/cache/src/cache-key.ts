import { createHash } from 'node:crypto';
import type { JobRequest } from '@hotpath/contracts';

/** Bump when the key layout changes, so old entries are never read with a new meaning. */
const KEY_VERSION = 'v1';

/**
 * Whether a request's output is a pure function of its inputs: embeddings always; generation when
 * greedy (temperature 0, the native default) or sampled with an explicit seed. Only those are cached
 * or coalesced — a sampled request without a seed must get fresh randomness every time.
 */
export function isDeterministic(job: JobRequest): boolean {
  if (job.task === 'embed') return true;
  const t = job.params.temperature ?? 0;
  return t === 0 || job.params.seed !== undefined;
}

/** Everything that identifies one cacheable computation. */
export interface CacheKeyInput {
  job: JobRequest;
  /** Content digest of the model version; a new version never reads the old one's entries. */
  modelDigest: string;
  /** `tenant` scope keeps tenants apart; `global` shares entries across tenants of a model. */
  scope: 'tenant' | 'global';
  tenant: string;
  /** The model's default `max_tokens`, so an omitted value and the explicit default share an entry. */
  defaultMaxTokens: number;
}

/** The output-relevant parameters of a request in canonical form. */
function canonicalParams(job: JobRequest, defaultMaxTokens: number): unknown {
  if (job.task === 'embed') return {};
  const p = job.params;
  const temperature = p.temperature ?? 0;
  const stop = [...(p.stop ?? [])].sort();
  // Greedy decoding ignores the sampler's knobs; leaving them out lets more requests share an entry.
  if (temperature === 0) return { greedy: true, max_tokens: p.max_tokens ?? defaultMaxTokens, stop };
  return {
    temperature,
    top_p: p.top_p ?? 1,
    top_k: p.top_k ?? 0,
    seed: p.seed ?? null,
    max_tokens: p.max_tokens ?? defaultMaxTokens,
    stop,
  };
}

/** SHA-256 over a canonical JSON of model, version, task, input and output-relevant parameters. */
export function computeCacheKey(k: CacheKeyInput): string {
  const input = k.job.task === 'generate' ? { prompt: k.job.input.prompt } : { texts: k.job.input.texts };
  const canonical = JSON.stringify([
    KEY_VERSION,
    k.scope === 'global' ? '*' : k.tenant,
    k.job.model,
    k.modelDigest,
    k.job.task,
    input,
    canonicalParams(k.job, k.defaultMaxTokens),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
