import { QueueKeys } from 'bullmq';
import { QUEUE_PREFIX, shardQueueName } from '@hotpath/contracts';
import { fairBacklogKey, laneKeys } from '@hotpath/queue';

/**
 * The keys a pool's autoscaler reads per shard queue: BullMQ's waiting, prioritized and running
 * jobs, `fair`, the jobs waiting in the shard's fair queue beyond BullMQ's short lookahead (with
 * fair queuing on, the default, that is most of a backlog; a hash, which KEDA counts with HLEN),
 * and the direct lane's ready (`lane`) and running (`lane_active`) jobs (sorted sets, ZCARD).
 */
export const SCALED_KEY_TYPES = ['wait', 'prioritized', 'active', 'fair', 'lane', 'lane_active'] as const;
export type ScaledKeyType = (typeof SCALED_KEY_TYPES)[number];

/** One autoscaler input: a Redis key of one shard queue and the trigger name that reads it. */
export interface ScaledKey {
  model: string;
  shard: number;
  type: ScaledKeyType;
  /** The Redis key, exactly as BullMQ names it (`hp:{tiny:0}:prioritized`). */
  key: string;
  /** The KEDA trigger name for it: an identifier usable in a scalingModifiers formula. */
  triggerName: string;
}

/** The keys for the given shard queues, derived from BullMQ's and the fair queue's own key naming. */
export function scaledKeys(queues: readonly { model: string; shard: number }[]): ScaledKey[] {
  const keys = new QueueKeys(QUEUE_PREFIX);
  return queues.flatMap(({ model, shard }) => {
    const all: Record<string, string | undefined> = {
      ...keys.getKeys(shardQueueName(model, shard)),
      fair: fairBacklogKey(model, shard),
      lane: laneKeys(model, shard).ready,
      lane_active: laneKeys(model, shard).leased,
    };
    return SCALED_KEY_TYPES.map((type) => {
      const key = all[type];
      if (!key) throw new Error(`no "${type}" key`);
      return { model, shard, type, key, triggerName: `${model.replace(/[^a-z0-9]/g, '_')}_${shard}_${type}` };
    });
  });
}

/**
 * The length KEDA's `redis` scaler reads for `listName`: it asks Redis for the key's TYPE and then
 * counts with the matching command (LLEN for lists and missing keys, ZCARD for sorted sets, SCARD,
 * HLEN). Same dispatch, in one script so TYPE and the count see the same state.
 */
export const KEDA_LENGTH_SCRIPT = `
local t = redis.call('TYPE', KEYS[1]).ok
local count = { list = 'LLEN', none = 'LLEN', zset = 'ZCARD', set = 'SCARD', hash = 'HLEN' }
return redis.call(count[t], KEYS[1])
`;
