import {
  computeCacheKey,
  isDeterministic,
  type CachedResult,
  type ModelDigests,
  type ResultCache,
} from '@hotpath/cache';
import type { JobRequest, ModelConfig } from '@hotpath/contracts';

/** What the result cache said about a submission (`x-cache` header, docs/api.md#jobs). */
export type CacheOutcome = 'hit' | 'miss' | 'coalesced' | 'bypass';

/** The answer of a cache lookup. */
export type CacheLookupResult =
  /** Not cacheable (cache off, `cache: "bypass"`, sampling without a seed, no model version known yet). */
  | { outcome: 'bypass' }
  /** A stored result for exactly this computation. */
  | { outcome: 'hit'; key: string; digest: string; entry: CachedResult }
  /** Cacheable but not stored (or `cache: "refresh"`): run it under this key and version. */
  | { outcome: 'miss'; key: string; digest: string };

/**
 * The API's half of the result cache: decides whether a request is cacheable, computes its key
 * (model, version digest, task, input, output-relevant params, tenant scope) and reads the entry.
 * Runs before anything is enqueued, so a hit never touches BullMQ.
 */
export class ResultCacheLookup {
  constructor(
    private readonly cache: ResultCache,
    private readonly digests: ModelDigests,
  ) {}

  /** False when the cache cannot serve this request at all (cache off, `cache: "bypass"`, sampling). */
  consulted(request: JobRequest, model: ModelConfig): boolean {
    return model.cache.enabled && request.cache !== 'bypass' && isDeterministic(request);
  }

  async lookup(tenant: string, request: JobRequest, model: ModelConfig): Promise<CacheLookupResult> {
    if (!this.consulted(request, model)) return { outcome: 'bypass' };
    // Workers publish the version they serve; until one has, nothing can be keyed safely.
    const digest = await this.digests.current(model.name);
    if (digest === null) return { outcome: 'bypass' };
    const key = computeCacheKey({
      job: request,
      modelDigest: digest,
      scope: model.cache.scope,
      tenant,
      defaultMaxTokens: model.default_max_tokens,
    });
    if (request.cache !== 'refresh') {
      const entry = await this.cache.get(model.name, key);
      if (entry && entry.modelDigest === digest) return { outcome: 'hit', key, digest, entry };
    }
    return { outcome: 'miss', key, digest };
  }
}
