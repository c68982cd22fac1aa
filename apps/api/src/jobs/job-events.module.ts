import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { JobEventReader, JobStore, JobWaiter, type RedisClient } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { LOGGER, REDIS_PRODUCER, REDIS_SUBSCRIBER } from '../core/tokens';
import { RedisModule } from '../redis/redis.module';
import { JobEventsController } from './job-events.controller';
import { JobEventsService } from './job-events.service';
import { JobEventsSse } from './job-events-sse';

/** The process-wide stream reader. */
export const JOB_EVENT_READER = Symbol('JOB_EVENT_READER');

/** Stops the reader (its connections belong to the Redis module). */
@Injectable()
class JobEventReaderLifecycle implements OnApplicationShutdown {
  constructor(@Inject(JOB_EVENT_READER) private readonly reader: JobEventReader) {}

  async onApplicationShutdown(): Promise<void> {
    await this.reader.close();
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
      inject: [LOGGER, REDIS_SUBSCRIBER, REDIS_PRODUCER],
      useFactory: (logger: Logger, subscriber: RedisClient, producer: RedisClient): JobEventReader =>
        // Notified on the subscriber connection it shares with the job waiter; reads never block.
        new JobEventReader(subscriber, producer, {
          onError: (err) => logger.debug('job event reader error', { err }),
        }),
    },
    {
      provide: JobEventsService,
      inject: [JOB_EVENT_READER, JobStore, JobWaiter, REDIS_PRODUCER],
      useFactory: (reader: JobEventReader, store: JobStore, waiter: JobWaiter, producer: RedisClient) =>
        new JobEventsService(reader, store, waiter, producer),
    },
    JobEventsSse,
    JobEventReaderLifecycle,
  ],
  exports: [JobEventsService, JobEventsSse],
})
export class JobEventsModule {}
