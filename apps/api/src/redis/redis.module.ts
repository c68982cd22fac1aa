import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { IdempotencyStore, JobStore, JobWaiter, ShardQueues, createRedisConnection } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, LOGGER, REDIS_PRODUCER, REDIS_SUBSCRIBER } from '../core/tokens';
import { attachConnectionLogging } from './connection-logging';
import { RedisLifecycle } from './redis.lifecycle';

/**
 * Two connections: a fail-fast `producer` (queues, job store, idempotency keys) so requests get 503
 * instead of piling up while Redis is down, and a `subscriber` for job events that reconnects and
 * resubscribes forever.
 */
@Module({
  providers: [
    {
      provide: REDIS_PRODUCER,
      inject: [API_CONFIG, LOGGER],
      useFactory: (config: ApiConfig, logger: Logger): Redis => {
        const conn = createRedisConnection(config.redis.url, 'producer', 'hotpath-api:producer');
        attachConnectionLogging(conn, 'producer', logger);
        return conn;
      },
    },
    {
      provide: REDIS_SUBSCRIBER,
      inject: [API_CONFIG, LOGGER],
      useFactory: (config: ApiConfig, logger: Logger): Redis => {
        const conn = createRedisConnection(config.redis.url, 'subscriber', 'hotpath-api:subscriber');
        attachConnectionLogging(conn, 'subscriber', logger);
        return conn;
      },
    },
    {
      provide: JobStore,
      inject: [REDIS_PRODUCER, API_CONFIG],
      useFactory: (producer: Redis, config: ApiConfig) =>
        new JobStore(producer, { resultTtlS: config.results.ttlS }),
    },
    {
      provide: JobWaiter,
      inject: [REDIS_SUBSCRIBER, JobStore],
      useFactory: (subscriber: Redis, store: JobStore) => new JobWaiter(subscriber, store),
    },
    {
      provide: ShardQueues,
      inject: [REDIS_PRODUCER, LOGGER],
      // Every queue re-emits its connection's errors; the connection already logs the outage once.
      useFactory: (producer: Redis, logger: Logger) =>
        new ShardQueues(producer, (err) => logger.debug('queue error', { err })),
    },
    {
      provide: IdempotencyStore,
      inject: [REDIS_PRODUCER],
      useFactory: (producer: Redis) => new IdempotencyStore(producer),
    },
    RedisLifecycle,
  ],
  exports: [REDIS_PRODUCER, REDIS_SUBSCRIBER, JobStore, JobWaiter, ShardQueues, IdempotencyStore],
})
export class RedisModule {}
