import { Module } from '@nestjs/common';
import { ModelDigests } from '@hotpath/cache';
import {
  AvailabilityCache,
  ModelChatTemplates,
  ModelInputLimitsStore,
  type RedisClient,
} from '@hotpath/queue';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, REDIS_PRODUCER } from '../core/tokens';
import { JobEventsModule } from '../jobs/job-events.module';
import { JobsModule } from '../jobs/jobs.module';
import { JobsService } from '../jobs/jobs.service';
import { RedisModule } from '../redis/redis.module';
import { ChatTemplateRenderer } from './chat-template';
import { ChatTemplateSource } from './chat-template-source';
import { OpenAiController } from './openai.controller';
import { OpenAiService } from './openai.service';
import { ModelTokenizers } from './model-tokenizers';
import { TokenizeController } from './tokenize.controller';

/** The OpenAI-compatible routes, on top of the native job path and the job event streams. */
@Module({
  imports: [RedisModule, JobsModule, JobEventsModule],
  controllers: [OpenAiController, TokenizeController],
  providers: [
    ApiKeyGuard,
    { provide: ModelTokenizers, useValue: new ModelTokenizers() },
    {
      provide: OpenAiService,
      inject: [API_CONFIG, JobsService, REDIS_PRODUCER, AvailabilityCache],
      useFactory: (
        config: ApiConfig,
        jobs: JobsService,
        producer: RedisClient,
        availability: AvailabilityCache,
      ) =>
        new OpenAiService(
          config,
          jobs,
          new ModelDigests(producer),
          new ChatTemplateSource(new ModelChatTemplates(producer)),
          new ChatTemplateRenderer(),
          availability,
          new ModelInputLimitsStore(producer),
        ),
    },
  ],
})
export class OpenAiModule {}
