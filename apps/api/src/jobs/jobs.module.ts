import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { IdempotencyStore, JobStore, JobWaiter, ShardQueues } from '@hotpath/queue';
import type { HotpathMetrics } from '@hotpath/telemetry';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, METRICS, REDIS_PRODUCER } from '../core/tokens';
import { RedisModule } from '../redis/redis.module';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { ResultCacheLookup } from './result-cache.lookup';

@Module({
  imports: [RedisModule],
  controllers: [JobsController],
  providers: [
    ApiKeyGuard,
    ResultCacheLookup,
    {
      provide: JobsService,
      inject: [
        API_CONFIG,
        REDIS_PRODUCER,
        JobStore,
        ShardQueues,
        IdempotencyStore,
        JobWaiter,
        METRICS,
        ResultCacheLookup,
      ],
      useFactory: (
        config: ApiConfig,
        producer: Redis,
        store: JobStore,
        queues: ShardQueues,
        idempotency: IdempotencyStore,
        waiter: JobWaiter,
        metrics: HotpathMetrics,
        cache: ResultCacheLookup,
      ) => new JobsService({ config, producer, store, queues, idempotency, waiter, metrics, cache }),
    },
  ],
})
export class JobsModule {}
