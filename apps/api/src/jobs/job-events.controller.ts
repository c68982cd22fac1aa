import { Controller, Get, Headers, Inject, Param, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { isStreamId } from '@hotpath/queue';
import { ApiKeyGuard, Tenant } from '../auth/api-key.guard';
import { JobEventsService } from './job-events.service';
import { JobEventsSse } from './job-events-sse';

/**
 * `GET /v1/jobs/{id}/events` (docs/api.md#jobs): Server-Sent Events `status`, `token`, then `done` (the
 * finished job view) or `error` (`{error, job}`), then the stream closes. A client connecting late
 * gets every token produced so far first; `Last-Event-ID` resumes after a given token.
 */
@Controller('v1/jobs')
@UseGuards(ApiKeyGuard)
export class JobEventsController {
  constructor(
    @Inject(JobEventsService) private readonly events: JobEventsService,
    @Inject(JobEventsSse) private readonly sse: JobEventsSse,
  ) {}

  @Get(':id/events')
  async stream(
    @Tenant() tenant: string,
    @Param('id') id: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Checked before the stream starts, so refusals are ordinary JSON errors.
    const record = await this.events.record(tenant, id);
    const from = lastEventId === undefined ? '0' : lastEventId.trim();
    if (!isStreamId(from)) {
      throw new HotpathError(
        ErrorCode.InvalidRequest,
        'Last-Event-ID must be an event id of this stream (<ms>-<seq>, each at most 2^64-1)',
        'Last-Event-ID',
      );
    }
    await this.sse.send(reply, record, from);
  }
}
