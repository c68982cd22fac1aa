/**
 * Redis keys of the cache. Every key of one model shares the `{m:<model>}` hash tag, so the Lua
 * scripts that touch an entry and its model's LRU index stay in one Redis Cluster slot.
 */
export const cacheKeys = {
  entry: (model: string, hash: string): string => `hp:cache:{m:${model}}:e:${hash}`,
  lru: (model: string): string => `hp:cache:{m:${model}}:lru`,
  flight: (model: string, hash: string): string => `hp:cache:{m:${model}}:sf:${hash}`,
  digest: (model: string): string => `hp:model:{m:${model}}:digest`,
};
