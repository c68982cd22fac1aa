import type { RedisClient } from '@hotpath/queue';
import type { ModelConfig } from '@hotpath/contracts';
import type { ShardQueues } from '@hotpath/queue';
import { QUEUE_DEPTH_STATES, setQueueDepth, type HotpathMetrics } from '@hotpath/telemetry';
import { withRedisTimeout } from '../redis/redis-availability';

/**
 * Sets `hotpath_queue_depth{model,shard,state}` from BullMQ's job counts, on each scrape. Bounded by
 * `timeoutMs` so a Redis outage never hangs `/metrics`; on failure the last values stay.
 * Returns whether the gauges were refreshed.
 */
export async function collectQueueDepth(
  models: readonly ModelConfig[],
  queues: ShardQueues,
  producer: RedisClient,
  metrics: HotpathMetrics,
  timeoutMs: number,
): Promise<boolean> {
  // Never create queues while disconnected: BullMQ's lazy initialisation would wait for Redis.
  if (producer.status !== 'ready') return false;
  const targets = models.flatMap((m) =>
    Array.from({ length: m.shards }, (_, shard) => ({ model: m.name, shard })),
  );
  try {
    const counts = await withRedisTimeout(
      Promise.all(targets.map((t) => queues.queue(t.model, t.shard).getJobCounts(...QUEUE_DEPTH_STATES))),
      timeoutMs,
    );
    targets.forEach((t, i) => setQueueDepth(metrics, t.model, t.shard, counts[i] ?? {}));
    return true;
  } catch {
    return false;
  }
}
