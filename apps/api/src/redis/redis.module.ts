import { Module, type Provider } from '@nestjs/common';
import {
  AvailabilityCache,
  IdempotencyStore,
  JobStore,
  JobWaiter,
  ShardQueues,
  USAGE_FLUSH_MS,
  UsageStore,
  WorkerRegistry,
  createRedisConnection,
  durabilityOf,
  type ConnectionRole,
  type RedisClient,
} from '@hotpath/queue';
import { TenantSettings } from '@hotpath/config';
import type { Logger } from '@hotpath/telemetry';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, LOGGER, REDIS_PRODUCER, REDIS_QUEUES, REDIS_SUBSCRIBER } from '../core/tokens';
import { attachConnectionLogging } from './connection-logging';
import { RedisLifecycle } from './redis.lifecycle';

/** A Nest provider of one logged Redis connection. */
function connection(token: symbol, role: ConnectionRole, name: string): Provider {
  return {
    provide: token,
    inject: [API_CONFIG, LOGGER],
    useFactory: (config: ApiConfig, logger: Logger): RedisClient => {
      const conn = createRedisConnection(config.redis, role, `hotpath-api:${name}`);
      attachConnectionLogging(conn, name, logger);
      return conn;
    },
  };
}

/**
 * Three connections: a fail-fast `producer` (job store, idempotency keys, cache) so requests get 503
 * instead of piling up while Redis is down, a second fail-fast one for the BullMQ queues, and a
 * `subscriber` for job events that reconnects and resubscribes forever. BullMQ defines dozens of Lua
 * commands on its connection, and ioredis copies every one onto each pipeline or MULTI created on
 * that connection: on a shared connection that made the job record's MULTI cost more than its
 * commands.
 */
@Module({
  providers: [
    connection(REDIS_PRODUCER, 'producer', 'producer'),
    connection(REDIS_QUEUES, 'producer', 'queues'),
    connection(REDIS_SUBSCRIBER, 'subscriber', 'subscriber'),
    {
      provide: JobStore,
      inject: [REDIS_PRODUCER, API_CONFIG],
      useFactory: (producer: RedisClient, config: ApiConfig) =>
        new JobStore(producer, {
          resultTtlS: config.results.ttlS,
          ...(durabilityOf(config.redis) ? { durability: durabilityOf(config.redis) } : {}),
        }),
    },
    {
      provide: JobWaiter,
      inject: [REDIS_SUBSCRIBER, JobStore],
      useFactory: (subscriber: RedisClient, store: JobStore) => new JobWaiter(subscriber, store),
    },
    {
      provide: ShardQueues,
      inject: [REDIS_QUEUES, LOGGER, API_CONFIG],
      // Every queue re-emits its connection's errors; the connection already logs the outage once.
      useFactory: (queues: RedisClient, logger: Logger, config: ApiConfig) =>
        new ShardQueues(queues, (err) => logger.debug('queue error', { err }), durabilityOf(config.redis)),
    },
    {
      provide: IdempotencyStore,
      inject: [REDIS_PRODUCER],
      useFactory: (producer: RedisClient) => new IdempotencyStore(producer),
    },
    {
      provide: AvailabilityCache,
      inject: [REDIS_PRODUCER],
      useFactory: (producer: RedisClient) => new AvailabilityCache(new WorkerRegistry(producer)),
    },
    {
      provide: UsageStore,
      inject: [REDIS_PRODUCER, TenantSettings, LOGGER],
      // Summed per process and written every second (and at shutdown, by RedisLifecycle).
      useFactory: (producer: RedisClient, tenants: TenantSettings, logger: Logger) =>
        new UsageStore(
          producer,
          () => tenants.current().usage_retention_s,
          Date.now,
          USAGE_FLUSH_MS,
          (err) => logger.warn('could not record tenant usage; kept for the next write', { err }),
        ),
    },
    RedisLifecycle,
  ],
  exports: [
    REDIS_PRODUCER,
    REDIS_QUEUES,
    REDIS_SUBSCRIBER,
    JobStore,
    JobWaiter,
    ShardQueues,
    IdempotencyStore,
    AvailabilityCache,
    UsageStore,
  ],
})
export class RedisModule {}
