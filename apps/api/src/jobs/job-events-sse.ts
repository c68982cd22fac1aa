import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ErrorCode } from '@hotpath/contracts';
import { toJobView, type JobRecord } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, LOGGER, SHUTDOWN_SIGNAL } from '../core/tokens';
import { requestLogFields } from '../http/http-hooks';
import { JobEventsService } from './job-events.service';
import { SseStream } from './sse-stream';

/**
 * Writes one job's Server-Sent Events (`status`, `token`, then `done` or `error`, then the stream
 * closes) onto a reply: for `GET /v1/jobs/{id}/events` and for `POST /v1/jobs` asked for
 * `text/event-stream` (submit and follow in one request).
 */
@Injectable()
export class JobEventsSse {
  constructor(
    @Inject(JobEventsService) private readonly events: JobEventsService,
    @Inject(SHUTDOWN_SIGNAL) private readonly shutdown: AbortController,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Takes `reply` over and streams `record`'s job from stream id `from` (`0`: all) to its end. */
  async send(reply: FastifyReply, record: JobRecord, from: string): Promise<void> {
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
          sendEnd(sse, e.record, record.id);
        }
      }
    } catch (err) {
      this.logger.warn('job event stream interrupted', {
        ...requestLogFields(reply.request),
        job_id: record.id,
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
