import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { standaloneTarget, type RedisTarget } from './redis-target';

/**
 * A connection to Hotpath's Redis, whatever its topology: a plain client (standalone, or the
 * Sentinel-elected primary) or a Redis Cluster client. Both speak the same commands; what a cluster
 * adds is that the keys of one command, script, MULTI or pipeline must share a slot (`redis-slots.ts`).
 */
export type RedisClient = Redis | Cluster;

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

function roleOptions(role: ConnectionRole): RedisOptions {
  switch (role) {
    case 'worker':
      return { maxRetriesPerRequest: null, enableReadyCheck: true };
    case 'producer':
      return { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 5000 };
    case 'subscriber':
      // No CLIENT SETINFO in the connect handshake: on a connection that enters subscriber mode
      // during it, ioredis 5 can send it after the SUBSCRIBE and reject it ("Connection in
      // subscriber mode"), failing the connection. Subscribers also wait for 'ready' (untilReady).
      return { maxRetriesPerRequest: null, autoResubscribe: true, disableClientInfo: true };
  }
}

/**
 * Resolves once `client` is ready (at once when it is). Subscribe after it: a SUBSCRIBE queued while
 * the connection is still in its handshake can overtake the handshake's own commands (the ready
 * check's INFO), which ioredis 5 then refuses in subscriber mode, and the start-up fails.
 */
export function untilReady(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

/**
 * Creates a client with the settings its role needs in production, for any {@link RedisTarget}
 * (a plain URL string means a standalone server).
 */
export function createRedisConnection(target: string, role: ConnectionRole, name?: string): Redis;
export function createRedisConnection(
  target: string | RedisTarget,
  role: ConnectionRole,
  name?: string,
): RedisClient;
export function createRedisConnection(
  target: string | RedisTarget,
  role: ConnectionRole,
  name?: string,
): RedisClient {
  const t = typeof target === 'string' ? standaloneTarget(target) : target;
  const fromUrl = redisOptionsFromUrl(t.url);
  const base: RedisOptions = {
    ...fromUrl,
    connectionName: name,
    retryStrategy,
    connectTimeout: 5000,
    lazyConnect: false,
    ...roleOptions(role),
  };
  if (t.mode === 'sentinel') {
    return new Redis({
      ...base,
      sentinels: t.sentinels,
      name: t.sentinelName,
      // The Sentinels share the primary's TLS setting; their own auth, if any, is the same password.
      ...(fromUrl.tls ? { enableTLSForSentinelMode: true } : {}),
      ...(fromUrl.password ? { sentinelPassword: fromUrl.password } : {}),
      sentinelRetryStrategy: retryStrategy,
    });
  }
  if (t.mode === 'cluster') {
    const cluster = new Cluster(t.seeds, clusterOptions(base, role));
    // Node connections open on first use; open them all once the slot map is known, so a request
    // does not pay a connection set-up (or time out on it under load) the first time it reaches a node.
    cluster.on('ready', () => {
      for (const node of cluster.nodes('master')) node.ping().catch(() => undefined);
    });
    return cluster;
  }
  return new Redis(base);
}

function clusterOptions(base: RedisOptions, role: ConnectionRole): ClusterOptions {
  const { host: _host, port: _port, db: _db, retryStrategy: _retry, ...perNode } = base;
  return {
    // Node connections open lazily, on their first command: they must queue it while connecting.
    // Failing fast is the cluster client's job (its own offline queue, commandTimeout).
    redisOptions: { ...perNode, enableOfflineQueue: true },
    // The whole cluster unreachable: keep trying, like a standalone client does.
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue: role !== 'producer',
    enableReadyCheck: true,
    // During a failover the slot answers CLUSTERDOWN / TRYAGAIN / connection errors until a replica
    // is promoted (about cluster-node-timeout); a producer gives up quickly (the API answers 503),
    // the others keep retrying with the slot map refreshed.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    maxRedirections: role === 'producer' ? 4 : 64,
    slotsRefreshTimeout: 2000,
    ...(role === 'producer' ? {} : { maxRetriesPerRequest: null }),
  } as ClusterOptions;
}

/** Whether `client` is a Redis Cluster client (multi-key work must then be grouped by slot). */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/** Resolves once the client is ready, or rejects after `timeoutMs` (used at start-up and by readiness checks). */
export async function waitForRedis(client: RedisClient, timeoutMs: number): Promise<void> {
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
