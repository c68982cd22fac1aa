import type { ChainableCommander, Redis } from 'ioredis';
import {
  JOB_EVENTS_MAXLEN,
  encodeJobEvent,
  jobEventsKey,
  type JobStreamEvent,
  type StreamToken,
} from './job-event-stream';

/** Settings of {@link JobEventPublisher}. */
export interface JobEventPublisherOptions {
  /** Seconds a job's stream stays readable after its last entry (the result TTL). */
  ttlS: number;
  maxLen?: number;
  /** Called with errors of unawaited writes (a lost token must not fail the job). */
  onError?: (err: unknown) => void;
}

/**
 * The worker's writer of job event streams, cheap on the generation hot path. Events are buffered
 * and written once per event-loop turn for ALL jobs together, as one pipeline: a decode step of a
 * batch of 16 sequences is one write, not 16. A job's consecutive tokens within a turn become one
 * `tokens` entry (a simulated or fast model yields many at once), and `EXPIRE` is sent on a job's
 * first write, on its last, and otherwise at most every half TTL — not once per write.
 */
export class JobEventPublisher {
  private pending: JobEventSink[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly maxLen: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: JobEventPublisherOptions,
  ) {
    this.maxLen = String(options.maxLen ?? JOB_EVENTS_MAXLEN);
  }

  /** A sink for one job's events. */
  open(jobId: string): JobEventSink {
    return new JobEventSink(this, jobEventsKey(jobId));
  }

  /** Marks `sink` as having events to write at the end of this turn. */
  schedule(sink: JobEventSink): void {
    this.pending.push(sink);
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      void this.send();
    });
  }

  /** Writes every sink's buffered events now, as one pipeline; resolves once Redis has them. */
  send(): Promise<void> {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    const sinks = this.pending;
    this.pending = [];
    if (sinks.length === 0) return Promise.resolve();
    const pipeline = this.redis.pipeline();
    const now = Date.now();
    for (const sink of sinks) sink.writeTo(pipeline, this.maxLen, this.options.ttlS, now);
    const write = pipeline.exec().then(
      (results) => {
        const failed = results?.find(([err]) => err !== null);
        if (failed) this.options.onError?.(failed[0]);
      },
      (err: unknown) => this.options.onError?.(err),
    );
    for (const sink of sinks) sink.written(write);
    return write;
  }
}

/** One job's events; {@link JobEventSink.flush} awaits the write. */
export class JobEventSink {
  private buffer: JobStreamEvent[] = [];
  private last: Promise<void> = Promise.resolve();
  /** When `EXPIRE` was last queued for this stream (0: never). */
  private expiredAt = 0;
  private ending = false;

  constructor(
    private readonly publisher: JobEventPublisher,
    readonly key: string,
  ) {}

  /** Queues an event; it is written at the end of the current turn. */
  push(event: JobStreamEvent): void {
    if (this.buffer.length === 0) this.publisher.schedule(this);
    this.buffer.push(event);
  }

  /** Writes everything queued so far and resolves once Redis has it (errors go to `onError`). */
  async flush(): Promise<void> {
    if (this.buffer.length > 0) await this.publisher.send();
    await this.last;
  }

  /** Queues a final entry and flushes. */
  async end(event: Extract<JobStreamEvent, { type: 'done' | 'error' }>): Promise<void> {
    this.ending = true;
    this.push(event);
    await this.flush();
  }

  /** Appends this job's buffered events to the turn's pipeline (called by the publisher). */
  writeTo(pipeline: ChainableCommander, maxLen: string, ttlS: number, now: number): void {
    const events = this.buffer;
    this.buffer = [];
    let run: StreamToken[] = [];
    const add = (e: JobStreamEvent): void => {
      pipeline.xadd(this.key, 'MAXLEN', '~', maxLen, '*', ...encodeJobEvent(e));
    };
    const endRun = (): void => {
      if (run.length === 1) add({ type: 'token', ...run[0]! });
      else if (run.length > 1) add({ type: 'tokens', tokens: run });
      run = [];
    };
    for (const e of events) {
      if (e.type === 'token') {
        run.push({ index: e.index, text: e.text, token_id: e.token_id });
      } else {
        endRun();
        add(e);
      }
    }
    endRun();
    if (this.ending || this.expiredAt === 0 || now - this.expiredAt >= (ttlS * 1000) / 2) {
      pipeline.expire(this.key, ttlS);
      this.expiredAt = now;
    }
  }

  /** Records the write that carries this job's latest events (called by the publisher). */
  written(write: Promise<void>): void {
    // One connection runs commands in order; chaining only serves `flush()`'s await.
    this.last = this.last.then(() => write);
  }
}
