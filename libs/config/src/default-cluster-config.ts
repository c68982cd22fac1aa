import type { ClusterConfigInput } from '@hotpath/contracts';

/**
 * The built-in cluster config `hotpath up` serves when `HOTPATH_CONFIG` is unset: the `sim` backend
 * (no CPU, for trying the job path and load-testing the queue) on two shards.
 */
export const DEFAULT_CLUSTER_CONFIG: ClusterConfigInput = {
  models: [
    {
      name: 'sim',
      backend: 'sim',
      tasks: ['generate', 'embed'],
      shards: 2,
      concurrency: 64,
      sim: { base_ms: 0, per_item_ms: 0, embedding_dim: 8 },
    },
  ],
};
