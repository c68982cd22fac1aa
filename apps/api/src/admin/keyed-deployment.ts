import type { RedisClient } from '@hotpath/queue';

/**
 * Set (no TTL) by every API that has tenant keys, whenever its Redis connection becomes ready: the
 * Redis holds tenants' data. An API in open dev mode that finds it keeps its admin routes closed,
 * since they act on every tenant's data (a cache purge deletes all tenants' entries).
 */
export const KEYED_DEPLOYMENT_KEY = 'hp:deployment:keyed';

/** Marks the Redis of `producer` as holding tenants' data, now and after every reconnect. */
export function markKeyedDeployment(producer: RedisClient): void {
  const mark = (): void => {
    producer.set(KEYED_DEPLOYMENT_KEY, new Date().toISOString()).catch(() => undefined);
  };
  producer.on('ready', mark);
  if (producer.status === 'ready') mark();
}

/** Whether a keyed API ever used this Redis. */
export async function isKeyedDeployment(producer: RedisClient): Promise<boolean> {
  return (await producer.exists(KEYED_DEPLOYMENT_KEY)) === 1;
}
