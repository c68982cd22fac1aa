import { Injectable } from '@nestjs/common';
import type { JobRequest, ModelConfig } from '@hotpath/contracts';

/** What the result cache said about a submission (`x-cache` header, SPEC §3.1). */
export type CacheOutcome = 'hit' | 'miss' | 'coalesced' | 'bypass';

/** The answer of a cache lookup. */
export interface CacheLookupResult {
  outcome: CacheOutcome;
}

/**
 * THE CACHE SEAM. `JobsService.submit` asks this before enqueueing. Today there is no result
 * cache, so every lookup is a `miss` (or a `bypass` when the request says `cache: "bypass"`).
 * The result-cache issue replaces the body of {@link ResultCacheLookup.lookup}: a `hit` carries
 * the finished result, which the service stores with `JobStore.createCompleted` and answers 200.
 */
@Injectable()
export class ResultCacheLookup {
  lookup(_tenant: string, request: JobRequest, _model: ModelConfig): Promise<CacheLookupResult> {
    return Promise.resolve({ outcome: request.cache === 'bypass' ? 'bypass' : 'miss' });
  }
}
