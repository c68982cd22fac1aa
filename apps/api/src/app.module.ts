import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AdminModule } from './admin/admin.module';
import { CoreModule, type CoreDeps } from './core/core.module';
import { DocsModule } from './docs/docs.module';
import { AllExceptionsFilter } from './errors/all-exceptions.filter';
import { JobEventsModule } from './jobs/job-events.module';
import { JobsModule } from './jobs/jobs.module';
import { OpenAiModule } from './openai/openai.module';
import { OpsModule } from './ops/ops.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { TenancyModule } from './tenancy/tenancy.module';

/** The API's root module; `deps` are built once by the app factory before Nest starts. */
@Module({})
export class AppModule {
  static forRoot(deps: CoreDeps): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(deps),
        JobsModule,
        JobEventsModule,
        OpenAiModule,
        WebhooksModule,
        OpsModule,
        AdminModule,
        TenancyModule,
        DocsModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
    };
  }
}
