import { LOCAL_REDIS_URL } from '@hotpath/redis-local';

/** Where the Redis that `hotpath up` uses came from. */
export type RedisSource = 'env' | 'local' | 'embedded' | 'docker' | 'cluster';

/** A Redis ready for the cluster, and how to let it go when `hotpath up` stops. */
export interface ResolvedRedis {
  url: string;
  source: RedisSource;
  /** One line for humans, e.g. `embedded redis-server (data in .hotpath/redis, AOF on)`. */
  description: string;
  /** Stops what `hotpath up` started (flushing the AOF); a no-op for a Redis it only found. */
  stop(): Promise<void>;
  /** Process id of a redis-server this run started or adopted on this host. */
  pid?: number;
}

/** Ways to look for and start a Redis; injected so the order of the search is testable without one. */
export interface RedisProbes {
  /** PING through the URL; resolves to `undefined` on `PONG`, else to the reason it failed. */
  ping(url: string): Promise<string | undefined>;
  /** `redis-server` is on PATH. */
  hasRedisServer(): Promise<boolean>;
  /** Starts `redis-server` with its data in `dataDir`. */
  startEmbedded(dataDir: string): Promise<ResolvedRedis>;
  /** `docker info` succeeds. */
  dockerAvailable(): Promise<boolean>;
  /** Starts a Redis container; `undefined` with a reason when the `testcontainers` package is missing. */
  startDocker(): Promise<ResolvedRedis | { unavailable: string }>;
}

/** No Redis could be found or started; the message says how to get one. */
export class RedisNotFoundError extends Error {
  override readonly name = 'RedisNotFoundError';
  readonly code = 'redis_unavailable';
}

/** Hides the password of a Redis URL for printing. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Picks the Redis for `hotpath up`, in this order:
 * 1. `REDIS_URL` when set: it must answer PING, otherwise an error (never a silent fallback, so a
 *    typo does not quietly run against a throwaway Redis);
 * 2. a Redis answering PING on 127.0.0.1:6379;
 * 3. `redis-server` from PATH, started on a free port with AOF on, data in `<dataDir>/redis`;
 * 4. a Docker container through `testcontainers`, when `docker info` succeeds and the package exists;
 * 5. otherwise a {@link RedisNotFoundError} saying how to install Redis.
 */
export async function resolveRedis(
  input: { redisUrl: string | undefined; dataDir: string },
  probes: RedisProbes,
  note: (line: string) => void = () => undefined,
): Promise<ResolvedRedis> {
  if (input.redisUrl) {
    const err = await probes.ping(input.redisUrl);
    if (err !== undefined) {
      throw new RedisNotFoundError(
        `REDIS_URL=${redactRedisUrl(input.redisUrl)} does not answer PING (${err}). ` +
          'Start that Redis, fix the URL, or unset REDIS_URL to let hotpath up find or start one.',
      );
    }
    return {
      url: input.redisUrl,
      source: 'env',
      description: 'from REDIS_URL',
      stop: async () => undefined,
    };
  }
  if ((await probes.ping(LOCAL_REDIS_URL)) === undefined) {
    return {
      url: LOCAL_REDIS_URL,
      source: 'local',
      description: 'found on 127.0.0.1:6379',
      stop: async () => undefined,
    };
  }
  if (await probes.hasRedisServer()) {
    return probes.startEmbedded(input.dataDir);
  }
  note('no Redis on 127.0.0.1:6379 and no redis-server on PATH');
  if (await probes.dockerAvailable()) {
    const started = await probes.startDocker();
    if (!('unavailable' in started)) return started;
    note(started.unavailable);
  }
  throw new RedisNotFoundError(
    'no Redis found: nothing answers on 127.0.0.1:6379, redis-server is not on PATH and Docker ' +
      '(with the testcontainers package) is not available.\n' +
      'Install Redis and run again:\n' +
      '  Debian/Ubuntu: sudo apt-get install redis-server\n' +
      '  macOS:         brew install redis\n' +
      'or point hotpath at a running one: REDIS_URL=redis://host:6379 npm start',
  );
}
