import { ErrorCode, HotpathError, shardQueueName, type ClusterConfig } from '@hotpath/contracts';
import { shardsServed, type ShardSelection } from '@hotpath/queue';

/** A served shard queue. */
export interface ServedQueue {
  model: string;
  shard: number;
  /** The shard queue's logical name (docs/architecture.md#redis-keys), `{model:shard}`; its Redis keys are `hp:{model:shard}:*`. */
  name: string;
}

/** The shard queues a selection serves, model by model. Throws when the selection is unusable. */
export function planServedQueues(cluster: ClusterConfig, shards: ShardSelection | 'all'): ServedQueue[] {
  if (shards !== 'all') {
    for (const name of shards.keys()) {
      if (!cluster.models.some((m) => m.name === name)) {
        throw new HotpathError(
          ErrorCode.InvalidConfig,
          `WORKER_SHARDS names unknown model "${name}"`,
          'WORKER_SHARDS',
        );
      }
    }
  }
  const queues = cluster.models.flatMap((m) =>
    shardsServed(shards, m.name, m.shards).map((shard) => ({
      model: m.name,
      shard,
      name: shardQueueName(m.name, shard),
    })),
  );
  if (queues.length === 0) {
    throw new HotpathError(ErrorCode.InvalidConfig, 'WORKER_SHARDS selects no shard queue', 'WORKER_SHARDS');
  }
  return queues;
}
