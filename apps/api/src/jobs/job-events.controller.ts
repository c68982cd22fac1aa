import { Controller, Get, Headers, Inject, Param, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { isStreamId, toJobView, type JobRecord } from '@hotpath/queue';
import { ApiKeyGuard, Tenant } from '../auth/api-key.guard';
import type { Logger } from '@hotpath/telemetry';
import { API_CONFIG, LOGGER, SHUTDOWN_SIGNAL } from '../core/tokens';
import type { ApiConfig } from '../config/api-config';
import { JobEventsService } from './job-events.service';
import { SseStream } from './sse-stream';
import { requestLogFields } from '../http/http-hooks';

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
    @Inject(SHUTDOWN_SIGNAL) private readonly shutdown: AbortController,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(LOGGER) private readonly logger: Logger,
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
    const sse = SseStream.open(reply, { maxBufferedBytes: this.config.cluster.api.sse_max_buffered_bytes });
    const signal = AbortSignal.any([sse.signal, this.shutdown.signal]);
    let last = '';
    // The index of the next token to send. A re-run (after a crashed worker or a retry) restarts at
    // index 0; what was sent cannot be taken back, so the stream resumes where it was instead of
    // repeating. Unknown when resuming from Last-Event-ID: the first token sets it.
    let next: number | undefined = from === '0' ? 0 : undefined;
    try {
      for await (const e of this.events.follow(record, from, signal)) {
        if (e.type === 'status') {
          // The record's status and the worker's first entry often say the same thing: send it once.
          const key = `${e.status}/${e.attempt ?? ''}`;
          if (key !== last && !(e.status === last.split('/')[0] && e.attempt === undefined)) {
            sse.event(
              'status',
              { status: e.status, ...(e.attempt !== undefined ? { attempt: e.attempt } : {}) },
              e.id,
            );
          }
          last = key;
        } else if (e.type === 'token') {
          if (next !== undefined && e.index !== next) continue;
          next = e.index + 1;
          sse.event('token', { index: e.index, text: e.text, token_id: e.token_id }, e.id);
        } else {
          sendEnd(sse, e.record, id);
        }
      }
    } catch (err) {
      this.logger.warn('job event stream interrupted', {
        ...requestLogFields(reply.request),
        job_id: id,
        error: err,
      });
      sse.event('error', {
        error: { code: ErrorCode.RedisUnavailable, message: 'the event stream was interrupted' },
      });
    } finally {
      sse.end();
    }
  }
}

function sendEnd(sse: SseStream, record: JobRecord | undefined, id: string): void {
  if (!record) {
    sse.event('error', { error: { code: ErrorCode.NotFound, message: `job "${id.slice(0, 64)}" expired` } });
    return;
  }
  const view = toJobView(record);
  if (record.status === 'completed') {
    sse.event('done', view);
    return;
  }
  const error =
    record.error ??
    (record.status === 'cancelled'
      ? { code: ErrorCode.Cancelled, message: 'the job was cancelled' }
      : { code: ErrorCode.Internal, message: `the job ended as ${record.status}` });
  sse.event('error', { error, job: view });
}
