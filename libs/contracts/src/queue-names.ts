/** Key prefix of every BullMQ queue (SPEC §7). */
export const QUEUE_PREFIX = 'hp';

/**
 * The BullMQ queue name of one model shard. The braces are a Redis Cluster hash tag, so every key
 * of the queue (`hp:{tiny:0}:wait`, `hp:{tiny:0}:prioritized`, ...) lands in one slot and BullMQ's
 * multi-key Lua scripts keep working on a cluster.
 */
export function shardQueueName(model: string, shard: number): string {
  return `{${model}:${shard}}`;
}

/** Inverse of {@link shardQueueName}; `undefined` for names that are not shard queues. */
export function parseShardQueueName(name: string): { model: string; shard: number } | undefined {
  const m = /^\{(.+):(\d+)\}$/.exec(name);
  if (!m?.[1] || m[2] === undefined) return undefined;
  return { model: m[1], shard: Number(m[2]) };
}

/** Numeric BullMQ priorities (lower runs first). Every job carries one, so ordering is total. */
export const PRIORITY_VALUE = { high: 1, normal: 2, low: 3 } as const;
