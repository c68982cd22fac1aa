import type { Redis } from 'ioredis';
import type { JobStatus } from '@hotpath/contracts';

/**
 * The Redis Stream of one job's events (`status`, `token`, `done`, `error`): `hp:events:<id>`. Not
 * under `hp:job:*`, which holds only job record hashes (tools scan it).
 */
export function jobEventsKey(id: string): string {
  return `hp:events:${id}`;
}

/**
 * Approximate length bound of one job's stream (`XADD MAXLEN ~`): room for the largest generation
 * (`JobLimits.maxTokens` = 4096) on two attempts plus status entries. Trimming is a safety net.
 */
export const JOB_EVENTS_MAXLEN = 10_000;

/** One generated token as it is streamed. */
export interface StreamToken {
  index: number;
  text: string;
  token_id: number;
}

/** One entry of a job's event stream, as the worker writes it. */
export type JobStreamEvent =
  /** The job (re)started (`running`, with its 1-based attempt) or went back to its queue (`queued`). */
  | { type: 'status'; status: JobStatus; attempt?: number }
  | ({ type: 'token' } & StreamToken)
  /** The job completed; its record holds the result. */
  | { type: 'done' }
  /** The job ended without a result: failed, deadline passed, or cancelled. */
  | { type: 'error'; code: string; message: string };

/** A stream entry with its Redis Stream id (`<ms>-<seq>`, usable as an SSE `id`). */
export type JobStreamEntry = JobStreamEvent & { id: string };

/** Field/value pairs of an XADD for `event`: `type` plus a compact JSON `data`. */
export function encodeJobEvent(event: JobStreamEvent): [string, string, string, string] {
  const { type, ...data } = event;
  return ['type', type, 'data', JSON.stringify(data)];
}

/**
 * Decodes one XRANGE/XREAD entry; `undefined` for entries this version does not know (written by a
 * newer worker), which readers skip.
 */
export function decodeJobEvent(id: string, fields: readonly string[]): JobStreamEntry | undefined {
  let type: string | undefined;
  let raw = '{}';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'type') type = fields[i + 1];
    else if (fields[i] === 'data') raw = fields[i + 1] ?? '{}';
  }
  let data: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    data = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  switch (type) {
    case 'status':
      if (typeof data['status'] !== 'string') return undefined;
      return {
        id,
        type,
        status: data['status'] as JobStatus,
        ...(typeof data['attempt'] === 'number' ? { attempt: data['attempt'] } : {}),
      };
    case 'token':
      if (typeof data['index'] !== 'number' || typeof data['text'] !== 'string') return undefined;
      return {
        id,
        type,
        index: data['index'],
        text: data['text'],
        token_id: typeof data['token_id'] === 'number' ? data['token_id'] : -1,
      };
    case 'done':
      return { id, type };
    case 'error':
      return {
        id,
        type,
        code: typeof data['code'] === 'string' ? data['code'] : 'internal_error',
        message: typeof data['message'] === 'string' ? data['message'] : '',
      };
    default:
      return undefined;
  }
}

/** Settings of {@link JobEventPublisher}. */
export interface JobEventPublisherOptions {
  /** Seconds a job's stream stays readable after its last entry (the result TTL). */
  ttlS: number;
  maxLen?: number;
  /** Called with errors of unawaited writes (a lost token must not fail the job). */
  onError?: (err: unknown) => void;
}

/**
 * The worker's writer of job event streams. Writes are cheap on the generation hot path: tokens are
 * buffered and sent once per event-loop turn as one pipeline (`XADD ... MAXLEN ~ N` per entry plus
 * one `EXPIRE`), without awaiting a round trip per token.
 */
export class JobEventPublisher {
  constructor(
    private readonly redis: Redis,
    private readonly options: JobEventPublisherOptions,
  ) {}

  /** A sink for one job's events. */
  open(jobId: string): JobEventSink {
    return new JobEventSink(this.redis, jobEventsKey(jobId), this.options);
  }
}

/** Buffers one job's events and flushes them once per tick; {@link JobEventSink.flush} awaits the write. */
export class JobEventSink {
  private buffer: JobStreamEvent[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly options: JobEventPublisherOptions,
  ) {}

  /** Queues an event; it is written at the end of the current tick. */
  push(event: JobStreamEvent): void {
    this.buffer.push(event);
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      void this.send();
    });
  }

  /** Writes everything queued so far and resolves once Redis has it (errors go to `onError`). */
  async flush(): Promise<void> {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    await this.send();
  }

  /** Queues a final entry and flushes. */
  async end(event: Extract<JobStreamEvent, { type: 'done' | 'error' }>): Promise<void> {
    this.buffer.push(event);
    await this.flush();
  }

  private send(): Promise<void> {
    if (this.buffer.length > 0) {
      const events = this.buffer;
      this.buffer = [];
      const pipeline = this.redis.pipeline();
      const maxLen = String(this.options.maxLen ?? JOB_EVENTS_MAXLEN);
      for (const e of events) pipeline.xadd(this.key, 'MAXLEN', '~', maxLen, '*', ...encodeJobEvent(e));
      pipeline.expire(this.key, this.options.ttlS);
      // Commands on one connection run in order, so chaining only serves `flush()`'s await.
      const write = pipeline.exec().then(
        (results) => {
          const failed = results?.find(([err]) => err !== null);
          if (failed) this.options.onError?.(failed[0]);
        },
        (err: unknown) => this.options.onError?.(err),
      );
      this.last = this.last.then(() => write);
    }
    return this.last;
  }
}
