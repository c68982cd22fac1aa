/** Key prefix of every BullMQ queue (docs/architecture.md#shard-queues). */
export const QUEUE_PREFIX = 'hp';

/**
 * The logical name of one model shard's queue, `{model:shard}` (docs/architecture.md#shard-queues). The braces are a Redis
 * Cluster hash tag, so every key of the queue (`hp:{tiny:0}:wait`, `hp:{tiny:0}:prioritized`, ...)
 * lands in one slot and BullMQ's multi-key Lua scripts keep working on a cluster.
 *
 * Do NOT pass this to `new Queue(...)`/`new Worker(...)`: BullMQ rejects `:` in queue names. Use
 * {@link shardQueueRef}, which yields exactly the same Redis keys.
 */
export function shardQueueName(model: string, shard: number): string {
  return `{${model}:${shard}}`;
}

/** What BullMQ's constructors need for one shard queue: `new Queue(ref.name, { prefix: ref.prefix })`. */
export interface ShardQueueRef {
  name: string;
  prefix: string;
}

/**
 * BullMQ builds every key as `${prefix}:${name}:${suffix}` and refuses `:` inside `name`. Splitting
 * `hp:{model:shard}` at its inner colon — prefix `hp:{model`, name `shard}` — gives BullMQ a legal
 * name while producing exactly the documented keys (`hp:{tiny:0}:wait`), hash tag included.
 */
export function shardQueueRef(model: string, shard: number): ShardQueueRef {
  return { prefix: `${QUEUE_PREFIX}:{${model}`, name: `${shard}}` };
}

/** The full Redis key of one of a shard queue's BullMQ structures, e.g. `hp:{tiny:0}:wait`. */
export function shardQueueKey(model: string, shard: number, suffix: string): string {
  return `${QUEUE_PREFIX}:${shardQueueName(model, shard)}:${suffix}`;
}

/** Inverse of {@link shardQueueName}; `undefined` for names that are not shard queues. */
export function parseShardQueueName(name: string): { model: string; shard: number } | undefined {
  const m = /^\{(.+):(\d+)\}$/.exec(name);
  if (!m?.[1] || m[2] === undefined) return undefined;
  return { model: m[1], shard: Number(m[2]) };
}

/** Numeric BullMQ priorities (lower runs first). Every job carries one, so ordering is total. */
export const PRIORITY_VALUE = { high: 1, normal: 2, low: 3 } as const;
