import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { JobWaiter, ShardQueues, UsageStore, closeRedis, type RedisClient } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import { LOGGER, REDIS_PRODUCER, REDIS_QUEUES, REDIS_SUBSCRIBER } from '../core/tokens';

/**
 * Starts the job-event subscription at boot and writes pending usage, closes queues, then
 * connections, at shutdown.
 * Closing happens in `onApplicationShutdown`, i.e. after the HTTP server stopped accepting and
 * in-flight requests were answered.
 */
@Injectable()
export class RedisLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(REDIS_PRODUCER) private readonly producer: RedisClient,
    @Inject(REDIS_QUEUES) private readonly queueConnection: RedisClient,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: RedisClient,
    @Inject(JobWaiter) private readonly waiter: JobWaiter,
    @Inject(ShardQueues) private readonly queues: ShardQueues,
    @Inject(UsageStore) private readonly usage: UsageStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: the API starts (and reports not-ready) while Redis is down; the subscription
    // completes when it comes back.
    this.waiter.start().catch((err: unknown) => this.logger.warn('job event subscription failed', { err }));
  }

  async onApplicationShutdown(): Promise<void> {
    // The usage summed since the last write (cache hits, refusals) goes out before the connection closes.
    await this.usage.close();
    await this.queues.close();
    await Promise.all([
      closeRedis(this.subscriber),
      closeRedis(this.producer),
      closeRedis(this.queueConnection),
    ]);
  }
}
