import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import {
  JobEventReader,
  JobStore,
  JobWaiter,
  SlotGroupedJobEventReader,
  createRedisConnection,
  type JobEventFeed,
  type RedisClient,
} from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, LOGGER, REDIS_PRODUCER } from '../core/tokens';
import { attachConnectionLogging } from '../redis/connection-logging';
import { RedisModule } from '../redis/redis.module';
import { JobEventsController } from './job-events.controller';
import { JobEventsService } from './job-events.service';
import { JobEventsSse } from './job-events-sse';

/** The process-wide stream reader and its dedicated blocking connection. */
export const JOB_EVENT_READER = Symbol('JOB_EVENT_READER');

interface ReaderHandle {
  reader: JobEventFeed;
  /** The standalone reader's blocking connection (a cluster's per-shard readers own theirs). */
  connection?: RedisClient;
}

/** Stops the reader, then drops its connection (which may sit in `XREAD BLOCK`). */
@Injectable()
class JobEventReaderLifecycle implements OnApplicationShutdown {
  constructor(@Inject(JOB_EVENT_READER) private readonly handle: ReaderHandle) {}

  async onApplicationShutdown(): Promise<void> {
    const closing = this.handle.reader.close();
    this.handle.connection?.disconnect();
    await closing;
  }
}

/** Job event streams: `GET /v1/jobs/{id}/events`, and {@link JobEventsService} for the OpenAI streams. */
@Module({
  imports: [RedisModule],
  controllers: [JobEventsController],
  providers: [
    ApiKeyGuard,
    {
      provide: JOB_EVENT_READER,
      inject: [API_CONFIG, LOGGER, REDIS_PRODUCER],
      useFactory: (config: ApiConfig, logger: Logger, producer: RedisClient): ReaderHandle => {
        // Its own connection: it spends its life in XREAD BLOCK, which would stall any other command.
        const open = (): RedisClient => {
          const connection = createRedisConnection(config.redis, 'worker', 'hotpath-api:events');
          attachConnectionLogging(connection, 'events', logger);
          return connection;
        };
        const onError = (err: unknown): void => logger.debug('job event reader error', { err });
        // On a cluster one XREAD reads one slot: a reader per shard with followed jobs.
        if (config.redis.mode === 'cluster')
          return { reader: new SlotGroupedJobEventReader(open, producer, { onError }) };
        const connection = open();
        return { reader: new JobEventReader(connection, producer, { onError }), connection };
      },
    },
    {
      provide: JobEventsService,
      inject: [JOB_EVENT_READER, JobStore, JobWaiter, REDIS_PRODUCER],
      useFactory: (handle: ReaderHandle, store: JobStore, waiter: JobWaiter, producer: RedisClient) =>
        new JobEventsService(handle.reader, store, waiter, producer),
    },
    JobEventsSse,
    JobEventReaderLifecycle,
  ],
  exports: [JobEventsService, JobEventsSse],
})
export class JobEventsModule {}
