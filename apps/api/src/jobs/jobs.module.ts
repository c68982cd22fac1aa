import { Module } from '@nestjs/common';
import { TenantSettings } from '@hotpath/config';
import {
  AvailabilityCache,
  IdempotencyStore,
  JobStore,
  JobWaiter,
  ShardQueues,
  UsageStore,
  type RedisClient,
} from '@hotpath/queue';
import type { HotpathMetrics } from '@hotpath/telemetry';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, METRICS, REDIS_PRODUCER } from '../core/tokens';
import { RedisModule } from '../redis/redis.module';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { ModelDigests, ResultCache, SingleFlight } from '@hotpath/cache';
import { ResultCacheLookup } from './result-cache-lookup';
import { WebhookNotifier } from '../webhooks/webhook-notifier';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { JobEventsModule } from './job-events.module';

@Module({
  imports: [RedisModule, WebhooksModule, JobEventsModule],
  controllers: [JobsController],
  providers: [
    ApiKeyGuard,
    {
      provide: ResultCacheLookup,
      inject: [REDIS_PRODUCER],
      useFactory: (producer: RedisClient) =>
        new ResultCacheLookup(new ResultCache(producer), new ModelDigests(producer)),
    },
    {
      provide: SingleFlight,
      inject: [REDIS_PRODUCER],
      useFactory: (producer: RedisClient) => new SingleFlight(producer),
    },
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
        SingleFlight,
        WebhookNotifier,
        TenantSettings,
        AvailabilityCache,
        UsageStore,
      ],
      useFactory: (
        config: ApiConfig,
        producer: RedisClient,
        store: JobStore,
        queues: ShardQueues,
        idempotency: IdempotencyStore,
        waiter: JobWaiter,
        metrics: HotpathMetrics,
        cache: ResultCacheLookup,
        flights: SingleFlight,
        webhooks: WebhookNotifier,
        tenants: TenantSettings,
        availability: AvailabilityCache,
        usage: UsageStore,
      ) =>
        new JobsService({
          config,
          producer,
          store,
          queues,
          idempotency,
          waiter,
          metrics,
          cache,
          flights,
          webhooks,
          tenants,
          availability,
          usage,
        }),
    },
  ],
  exports: [JobsService],
})
export class JobsModule {}
