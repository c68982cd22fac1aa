import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRedisCluster } from '@hotpath/redis-local';
import type { ResolvedRedis } from './redis-resolver';

/**
 * `hotpath up --redis-cluster`: a fresh local Redis Cluster of 3 masters + 3 replicas in
 * `<dataDir>/redis-cluster` (a laptop demo of the cluster topology, not a durable store: it is
 * created anew on each start and removed on stop).
 */
export async function startLocalCluster(
  dataDir: string,
  say: (line: string) => void,
): Promise<ResolvedRedis> {
  const dir = join(dataDir, 'redis-cluster');
  rmSync(dir, { recursive: true, force: true });
  say('  starting a local Redis Cluster (3 masters + 3 replicas)');
  const cluster = await LocalRedisCluster.start({ dir });
  return {
    url: cluster.url,
    source: 'cluster',
    description: `local Redis Cluster (3 masters + 3 replicas, ports ${cluster.nodes.map((n) => n.port).join(', ')})`,
    stop: async () => {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
