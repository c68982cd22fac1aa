import { isCluster, type RedisClient } from './redis-connection';

/** `HOTPATH_REDIS_WAIT_REPLICAS` as the stores use it. */
export interface Durability {
  /** Replicas that must acknowledge a write before it counts as accepted (≥ 1). */
  replicas: number;
  /** Longest `WAIT`, ms. */
  timeoutMs: number;
}

/** Fewer replicas than required acknowledged a write in time: it may be lost if its master dies now. */
export class ReplicaAckError extends Error {
  constructor(
    readonly acked: number,
    readonly required: number,
  ) {
    super(`only ${acked} of ${required} Redis replicas acknowledged the write in time`);
    this.name = 'ReplicaAckError';
  }
}

/**
 * `WAIT replicas timeout` on the connection that made the writes to the node owning `key`: Redis
 * answers once that many replicas have processed every write this connection sent to that node. On
 * a cluster the command carries no key, so it rides in a pipeline behind a read of `key`, which
 * sends both to the key's node (over the same connection the writes used).
 */
export async function waitForReplicas(
  redis: RedisClient,
  key: string,
  { replicas, timeoutMs }: Durability,
): Promise<number> {
  if (replicas <= 0) return 0;
  let acked: number;
  if (isCluster(redis)) {
    const res = (await redis.pipeline().exists(key).wait(replicas, timeoutMs).exec()) ?? [];
    const [err, value] = res[1] ?? [new Error('WAIT got no reply'), 0];
    if (err) throw err;
    acked = Number(value);
  } else {
    acked = await redis.wait(replicas, timeoutMs);
  }
  if (acked < replicas) throw new ReplicaAckError(acked, replicas);
  return acked;
}
