import { Redis, type RedisOptions } from 'ioredis';

/**
 * What a connection is for decides how it behaves when Redis goes away:
 * - `worker`: BullMQ workers block on Redis and must wait for it forever (`maxRetriesPerRequest: null`).
 * - `producer`: the API must fail fast so it can answer 503 instead of buffering requests in memory.
 * - `subscriber`: pub/sub listeners reconnect forever and resubscribe by themselves.
 */
export type ConnectionRole = 'worker' | 'producer' | 'subscriber';

/** Parses `redis://` / `rediss://` URLs into ioredis options; `rediss` turns TLS on. */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis:// or rediss://, got "${u.protocol}//"`);
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new Error(`REDIS_URL database "${u.pathname.slice(1)}" is not a number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Reconnect with capped exponential backoff: 50 ms doubling up to 2 s, forever. */
function retryStrategy(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 6), 2000);
}

/** Creates an ioredis client with the settings its role needs in production. */
export function createRedisConnection(url: string, role: ConnectionRole, name?: string): Redis {
  const base: RedisOptions = {
    ...redisOptionsFromUrl(url),
    connectionName: name,
    retryStrategy,
    connectTimeout: 5000,
    lazyConnect: false,
  };
  switch (role) {
    case 'worker':
      return new Redis({ ...base, maxRetriesPerRequest: null, enableReadyCheck: true });
    case 'producer':
      return new Redis({ ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 5000 });
    case 'subscriber':
      return new Redis({ ...base, maxRetriesPerRequest: null, autoResubscribe: true });
  }
}

/** Resolves once the client is ready, or rejects after `timeoutMs` (used at start-up and by readiness checks). */
export async function waitForRedis(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status: ${client.status})`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}
