import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ResultCache } from '@hotpath/cache';
import { ApiKeyRegistry } from '../auth/api-key-registry';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, REDIS_PRODUCER } from '../core/tokens';
import { RedisModule } from '../redis/redis.module';
import { ADMIN_KEYS, AdminKeyGuard } from '../webhooks/admin-key.guard';
import { ADMIN_RESULT_CACHE } from './admin.tokens';
import { CacheAdminController } from './cache-admin.controller';
import { JobsAdminController } from './jobs-admin.controller';
import { JobsModule } from '../jobs/jobs.module';

/**
 * Operator routes under `/v1/admin` that are not about webhooks: purging a model's result-cache
 * entries. Guarded by `HOTPATH_ADMIN_KEYS` (the same {@link AdminKeyGuard} as the webhook admin
 * routes; open only in open dev mode).
 */
@Module({
  imports: [RedisModule, JobsModule],
  controllers: [CacheAdminController, JobsAdminController],
  providers: [
    {
      provide: ADMIN_RESULT_CACHE,
      inject: [REDIS_PRODUCER],
      useFactory: (producer: Redis) => new ResultCache(producer),
    },
    {
      provide: ADMIN_KEYS,
      inject: [API_CONFIG],
      useFactory: (config: ApiConfig) => new ApiKeyRegistry(config.admin?.keys ?? []),
    },
    AdminKeyGuard,
  ],
})
export class AdminModule {}
