import { pingRedis, redisServerOnPath, startEmbeddedRedis } from '@hotpath/redis-local';
import { dockerAvailable, startDockerRedis } from './docker-redis';
import { startLocalCluster } from './local-cluster';
import { resolveRedis, type RedisProbes, type ResolvedRedis } from './redis-resolver';
import type { UpOptions } from './up-options';

/** The real probes: ioredis PING, redis-server from PATH, Docker through testcontainers. */
const REAL_PROBES: RedisProbes = {
  ping: (url) => pingRedis(url),
  hasRedisServer: redisServerOnPath,
  startEmbedded: (dir) => startEmbeddedRedis(dir),
  dockerAvailable: () => dockerAvailable(),
  startDocker: startDockerRedis,
};

/** The Redis of this run: a local Redis Cluster with `--redis-cluster`, else the first found or started. */
export function acquireRedis(opts: UpOptions, say: (line: string) => void): Promise<ResolvedRedis> {
  return opts.redisCluster
    ? startLocalCluster(opts.dataDir, say)
    : resolveRedis({ redisUrl: opts.redisUrl, dataDir: opts.dataDir }, REAL_PROBES, say);
}
