import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, HotpathError, type BatchEntry, type JobView } from '@hotpath/contracts';
import { isTerminal } from '@hotpath/queue';
import { ApiKeyGuard, Tenant } from '../auth/api-key.guard';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, SHUTDOWN_SIGNAL } from '../core/tokens';
import { clientWait, requestTraceContext } from '../http/http-hooks';
import { requestAbort } from '../http/request-abort';
import { clampWait, parsePreferWait, parseWaitQuery } from '../http/prefer-header';
import { JobsService } from './jobs.service';
import { listView, parseListQuery, type JobListView } from './job-list-query';

/** Native async jobs (docs/api.md#jobs). Validates and delegates to {@link JobsService}. */
@Controller('v1/jobs')
@UseGuards(ApiKeyGuard)
export class JobsController {
  constructor(
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(SHUTDOWN_SIGNAL) private readonly shutdown: AbortController,
  ) {}

  /** `202` queued job; `200` when it finished within `Prefer: wait=N` or was already finished. */
  @Post()
  async submit(
    @Tenant() tenant: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobView> {
    const sub = await this.jobs.submit(tenant, body, {
      idempotencyKey,
      trace: requestTraceContext(reply.request),
    });
    void reply.header('x-cache', sub.cache);
    if (sub.rateLimit) void reply.headers(sub.rateLimit);
    if (sub.replayed) void reply.header('idempotent-replayed', 'true');
    let view = sub.view;
    const wait = parsePreferWait(prefer);
    if (wait !== undefined) {
      const applied = clampWait(wait, this.config.cluster.api.max_wait_s);
      void reply.header('preference-applied', `wait=${applied}`);
      if (!isTerminal(view.status) && applied > 0) {
        const known = view;
        view = await clientWait(reply.request, () =>
          this.jobs.wait(tenant, known.id, applied, this.abortSignal(reply), known),
        );
      }
    }
    void reply.status(isTerminal(view.status) ? 200 : 202);
    return view;
  }

  /**
   * The tenant's own jobs, newest first: `?status=&model=&limit=` (1-100, default 20) and
   * `?cursor=` (the previous page's `next_cursor`). Entries leave out `result`.
   */
  @Get()
  async list(@Tenant() tenant: string, @Query() query: unknown): Promise<JobListView> {
    return listView(await this.jobs.list(tenant, parseListQuery(query)));
  }

  /** One entry per submitted job, in order: `{status_code, job}` or `{status_code, error}`. */
  @Post('batch')
  @HttpCode(200)
  async submitBatch(
    @Tenant() tenant: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: FastifyRequest,
  ): Promise<{ jobs: BatchEntry[] }> {
    return {
      jobs: await this.jobs.submitBatch(tenant, body, requestTraceContext(request), idempotencyKey),
    };
  }

  /** The job; with `?wait=N`, long-polls up to N seconds for it to finish. */
  @Get(':id')
  async get(
    @Tenant() tenant: string,
    @Param('id') id: string,
    @Query('wait') waitQuery: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobView> {
    const wait = parseWaitQuery(waitQuery);
    if (wait === null) {
      throw new HotpathError(ErrorCode.InvalidRequest, 'wait must be a number of seconds', 'wait');
    }
    if (wait === undefined) return this.jobs.get(tenant, id);
    const applied = clampWait(wait, this.config.cluster.api.max_wait_s);
    return clientWait(reply.request, () => this.jobs.wait(tenant, id, applied, this.abortSignal(reply)));
  }

  /** Cancels a queued or running job; `409` when it already finished. */
  @Delete(':id')
  cancel(@Tenant() tenant: string, @Param('id') id: string): Promise<JobView> {
    return this.jobs.cancel(tenant, id);
  }

  /** Aborts when the client goes away or the server shuts down. */
  private abortSignal(reply: FastifyReply): AbortSignal {
    return requestAbort(reply, this.shutdown.signal).signal;
  }
}
