export { isDeterministic, type CacheKeyInput, computeCacheKey } from './cache-key';
export { cacheKeys } from './cache-keys';
export { type CachedResult, type CacheBounds, ResultCache } from './result-cache';
export { type FlightClaim, SingleFlight } from './single-flight';
export { ModelDigests } from './model-digests';
