import { Module } from '@nestjs/common';
import { ResultCache } from '@hotpath/cache';
import { ApiKeyRegistry } from '../auth/api-key-registry';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, REDIS_PRODUCER, REDIS_QUEUES } from '../core/tokens';
import { RedisModule } from '../redis/redis.module';
import { ADMIN_KEYS, AdminKeyGuard } from '../webhooks/admin-key.guard';
import { ADMIN_RESULT_CACHE } from './admin-tokens';
import { CacheAdminController } from './cache-admin.controller';
import { JobsAdminController } from './jobs-admin.controller';
import { AdminPageGuard, QueueDashboardController } from './queue-dashboard.controller';
import { QueueOverviewReader } from './queue-overview';
import { JobStore, ShardQueues, WorkerRegistry, type RedisClient } from '@hotpath/queue';
import { JobsModule } from '../jobs/jobs.module';

/**
 * Operator routes under `/v1/admin` that are not about webhooks (purging a model's result-cache
 * entries, listing every tenant's jobs, the queue overview) and the queue dashboard page. Guarded by `HOTPATH_ADMIN_KEYS` (the same {@link AdminKeyGuard} as the webhook admin
 * routes; open only in open dev mode).
 */
@Module({
  imports: [RedisModule, JobsModule],
  controllers: [CacheAdminController, JobsAdminController, QueueDashboardController],
  providers: [
    {
      provide: ADMIN_RESULT_CACHE,
      inject: [REDIS_PRODUCER],
      useFactory: (producer: RedisClient) => new ResultCache(producer),
    },
    {
      provide: ADMIN_KEYS,
      inject: [API_CONFIG],
      useFactory: (config: ApiConfig) => new ApiKeyRegistry(config.admin?.keys ?? []),
    },
    AdminKeyGuard,
    AdminPageGuard,
    {
      provide: QueueOverviewReader,
      inject: [API_CONFIG, ShardQueues, REDIS_QUEUES, JobStore],
      useFactory: (config: ApiConfig, queues: ShardQueues, redis: RedisClient, store: JobStore) =>
        new QueueOverviewReader(config.cluster, queues, redis, store, new WorkerRegistry(redis)),
    },
  ],
})
export class AdminModule {}
