import type { ModelConfig } from '@hotpath/contracts';
import { fairWaiting, laneCounts, type RedisClient, type ShardQueues } from '@hotpath/queue';
import { QUEUE_DEPTH_STATES, setQueueDepth, type HotpathMetrics } from '@hotpath/telemetry';
import { withRedisTimeout } from '../redis/redis-availability';

/**
 * Sets `hotpath_queue_depth{model,shard,state}` from BullMQ's job counts, the fair queues'
 * waiting jobs and the direct lanes' ready and running jobs, on each scrape (the API exports them too, so the backlog has a series while a pool
 * is scaled to zero). Bounded by
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
    const [counts, fair, lanes] = await withRedisTimeout(
      Promise.all([
        Promise.all(targets.map((t) => queues.queue(t.model, t.shard).getJobCounts(...QUEUE_DEPTH_STATES))),
        Promise.all(targets.map((t) => fairWaiting(producer, t.model, t.shard))),
        Promise.all(targets.map((t) => laneCounts(producer, t.model, t.shard))),
      ]),
      timeoutMs,
    );
    targets.forEach((t, i) =>
      setQueueDepth(metrics, t.model, t.shard, counts[i] ?? {}, fair[i] ?? 0, lanes[i]),
    );
    return true;
  } catch {
    return false;
  }
}
