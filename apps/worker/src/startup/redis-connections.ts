import { closeRedis, createRedisConnection, type RedisClient, type RedisTarget } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import type { CleanupStack } from './cleanup-stack';

/** The worker's three Redis connections. */
export interface WorkerConnections {
  /** BullMQ workers and queues, job records, caches, heartbeats. */
  main: RedisClient;
  /** Pub/sub: the cancel channel. */
  subscriber: RedisClient;
  /**
   * Token streams. Not the BullMQ connection: BullMQ defines dozens of Lua commands on its
   * connection and ioredis copies every one onto each pipeline it creates, which made a pipeline
   * per token flush cost more than the XADDs in it.
   */
  events: RedisClient;
}

/** Opens the connections; `cleanups` closes them. */
export function openWorkerConnections(
  target: RedisTarget,
  workerId: string,
  logger: Logger,
  cleanups: CleanupStack,
): WorkerConnections {
  const connections: WorkerConnections = {
    main: createRedisConnection(target, 'worker', `hotpath-worker:${workerId}`),
    subscriber: createRedisConnection(target, 'subscriber', `hotpath-worker-sub:${workerId}`),
    events: createRedisConnection(target, 'worker', `hotpath-worker-events:${workerId}`),
  };
  onRedisErrors(connections.main, logger, 'worker');
  onRedisErrors(connections.subscriber, logger, 'subscriber');
  onRedisErrors(connections.events, logger, 'events');
  cleanups.push(
    () => closeRedis(connections.main),
    () => closeRedis(connections.subscriber),
    () => closeRedis(connections.events),
  );
  return connections;
}

/** ioredis emits an `error` per failed reconnect; log the first of a burst, not every retry. */
function onRedisErrors(conn: RedisClient, logger: Logger, role: string): void {
  let last = 0;
  conn.on('error', (err: Error) => {
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    logger.warn('redis connection error', { role, error: err });
  });
}
