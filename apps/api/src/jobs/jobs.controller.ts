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
import { JobEventsService } from './job-events.service';
import { JobEventsSse } from './job-events-sse';
import { listView, parseListQuery, type JobListView } from './job-list-query';

/** Native async jobs (docs/api.md#jobs). Validates and delegates to {@link JobsService}. */
@Controller('v1/jobs')
@UseGuards(ApiKeyGuard)
export class JobsController {
  constructor(
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(SHUTDOWN_SIGNAL) private readonly shutdown: AbortController,
    @Inject(JobEventsService) private readonly events: JobEventsService,
    @Inject(JobEventsSse) private readonly sse: JobEventsSse,
  ) {}

  /**
   * `202` queued job; `200` when it finished within `Prefer: wait=N` or was already finished. With
   * `Accept: text/event-stream`, `200` and the job's events (as `GET /v1/jobs/{id}/events`) in this
   * response: submit and follow in one request, the job id in `Location` and `x-job-id`.
   */
  @Post()
  async submit(
    @Tenant() tenant: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobView | undefined> {
    const follow = acceptsEventStream(accept);
    const sub = await this.jobs.submit(tenant, body, {
      idempotencyKey,
      trace: requestTraceContext(reply.request),
      // Its worker writes token events from the first one: nobody has to announce a follower.
      ...(follow ? { watched: true } : {}),
    });
    void reply.header('x-cache', sub.cache);
    if (sub.rateLimit) void reply.headers(sub.rateLimit);
    if (sub.replayed) void reply.header('idempotent-replayed', 'true');
    if (follow) {
      void reply.header('location', `/v1/jobs/${sub.view.id}`);
      void reply.header('x-job-id', sub.view.id);
      // Read before the stream starts: a Redis failure here is still an ordinary JSON error.
      const record = await this.events.record(tenant, sub.view.id);
      await this.sse.send(reply, record, '0');
      return undefined;
    }
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

/** Whether an `Accept` header asks for `text/event-stream` (any parameters or q-value above 0). */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (type !== 'text/event-stream') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
