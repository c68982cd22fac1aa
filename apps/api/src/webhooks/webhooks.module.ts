import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { WebhookDeadLetters, WebhookQueue, type RedisClient } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import { ApiKeyRegistry } from '../auth/api-key-registry';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, LOGGER, REDIS_PRODUCER } from '../core/tokens';
import { RedisModule } from '../redis/redis.module';
import { withRedisTimeout } from '../redis/redis-availability';
import { ADMIN_KEYS, AdminKeyGuard } from './admin-key.guard';
import { WebhookAdminController } from './webhook-admin.controller';
import { WebhookNotifier } from './webhook-notifier';
import { WebhookTargetPolicy } from './webhook-target-policy';
import { WEBHOOK_DEAD_LETTERS, WEBHOOK_QUEUE_PRODUCER } from './webhook-tokens';

/** Closes the webhook queue producer at shutdown (bounded: RedisClient may be gone). */
@Injectable()
class WebhookQueueLifecycle implements OnApplicationShutdown {
  constructor(@Inject(WEBHOOK_QUEUE_PRODUCER) private readonly queue: WebhookQueue) {}

  async onApplicationShutdown(): Promise<void> {
    await withRedisTimeout(this.queue.close(), 1000).catch(() => undefined);
  }
}

/** Webhook target validation, scheduling of cache-hit notifications, and the dead-letter admin routes. */
@Module({
  imports: [RedisModule],
  controllers: [WebhookAdminController],
  providers: [
    {
      provide: WebhookTargetPolicy,
      inject: [API_CONFIG],
      useFactory: (config: ApiConfig) =>
        new WebhookTargetPolicy(config.webhooks?.allowedHosts, config.auth.keys.length === 0),
    },
    {
      provide: WEBHOOK_QUEUE_PRODUCER,
      inject: [REDIS_PRODUCER, LOGGER],
      useFactory: (producer: RedisClient, logger: Logger) =>
        new WebhookQueue(producer, (err) => logger.debug('webhook queue error', { err })),
    },
    {
      provide: WEBHOOK_DEAD_LETTERS,
      inject: [REDIS_PRODUCER],
      useFactory: (producer: RedisClient) => new WebhookDeadLetters(producer),
    },
    {
      provide: WebhookNotifier,
      inject: [WebhookTargetPolicy, WEBHOOK_QUEUE_PRODUCER],
      useFactory: (policy: WebhookTargetPolicy, queue: WebhookQueue) => new WebhookNotifier(policy, queue),
    },
    {
      provide: ADMIN_KEYS,
      inject: [API_CONFIG],
      useFactory: (config: ApiConfig) => new ApiKeyRegistry(config.admin?.keys ?? []),
    },
    AdminKeyGuard,
    WebhookQueueLifecycle,
  ],
  exports: [WebhookNotifier],
})
export class WebhooksModule {}
