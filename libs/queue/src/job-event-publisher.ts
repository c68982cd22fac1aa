import type { ChainableCommander } from 'ioredis';
import {
  JOB_EVENTS_MAXLEN,
  JOB_STREAMS_CHANNEL,
  encodeJobEvent,
  jobEventsKey,
  type JobStreamEvent,
  type JobStreamRef,
  type StreamToken,
} from './job-event-stream';
import { isCluster, type RedisClient } from './redis-connection';
import { groupBySlot } from './redis-slots';

/** Settings of {@link JobEventPublisher}. */
export interface JobEventPublisherOptions {
  /** Seconds a job's stream stays readable after its last entry (the result TTL). */
  ttlS: number;
  maxLen?: number;
  /**
   * How long events wait for their write, ms (`queue.event_flush_ms`). 0: once per event-loop
   * turn. Above 0 a job's tokens of one interval become one `tokens` entry (one `XADD`) instead of
   * one entry per decode step; its first token and its end do not wait.
   */
  flushMs?: number;
  /**
   * Longest time between two writes under load, ms (`queue.event_flush_max_ms`; default `flushMs`,
   * i.e. no stretching). While many followed jobs run, the interval stretches to keep the worker's
   * stream entries near {@link EVENT_ENTRIES_PER_S} a second, up to this bound (see
   * {@link JobEventPublisher}).
   */
  flushMaxMs?: number;
  /** Called with errors of unawaited writes (a lost token must not fail the job). */
  onError?: (err: unknown) => void;
}

/**
 * The worker's writer of job event streams, cheap on the generation hot path. Only jobs that are
 * followed (an SSE or OpenAI stream, see {@link JobStore.watch}) are written at all: an unwatched
 * job's sink only remembers its tokens, and writes them in one entry if a follower turns up while it
 * runs. Events are buffered and written for ALL jobs together, as one pipeline (one per cluster
 * slot on Redis Cluster): a decode step of a batch of 16 sequences is one write, not 16. With
 * `flushMs`, events wait that long for their write and a job's consecutive tokens of one interval
 * become one `tokens` entry (without it: of one turn; a simulated or fast model yields many at once).
 * A job's first token (with what the run wrote before it, its status) and its end are written at the
 * end of their turn, whatever the interval — time to first token does not wait for it — without
 * flushing the other jobs.
 * `EXPIRE` is sent on a job's first write, on its last, and otherwise at most every half TTL — not
 * once per write.
 *
 * Why the interval stretches under load: every entry costs the same along the whole path (an
 * `XADD`, its share of the API's `XREAD`, one SSE socket write, the client's read), whatever it
 * carries; with 64 followed jobs a 10 ms interval is 6,400 entries a second, a large share of a
 * small host's CPU. So the interval is `flushMs` or, when the last write carried more jobs than
 * {@link EVENT_ENTRIES_PER_S} × `flushMs` allows, long enough to keep to that rate — at most
 * `flushMaxMs`. A streamed token then reaches its client in larger, rarer chunks; the total time
 * of a job and its first token are unchanged.
 */
export class JobEventPublisher {
  private readonly pending = new Set<JobEventSink>();
  private scheduled: { immediate: NodeJS.Immediate } | { timer: NodeJS.Timeout } | undefined;
  /** Sinks whose events must leave at the end of this turn (a first token), and that turn's write. */
  private readonly urgent = new Set<JobEventSink>();
  private urgentTurn: NodeJS.Immediate | undefined;
  /** How many jobs the last interval write carried (the next interval grows with it). */
  private lastJobs = 0;
  private readonly maxLen: string;
  private readonly open_ = new Map<string, JobEventSink>();
  /** Jobs announced as watched before their sink opened (the message can overtake the run's start). */
  private readonly earlyWatches = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly options: JobEventPublisherOptions,
  ) {
    this.maxLen = String(options.maxLen ?? JOB_EVENTS_MAXLEN);
  }

  /** A sink for one run of a job; `watched`: a follower is known already (its record says so). */
  open(job: JobStreamRef, watched = false): JobEventSink {
    const early = this.earlyWatches.get(job.id);
    this.earlyWatches.delete(job.id);
    const live = watched || (early !== undefined && Date.now() - early < EARLY_WATCH_MS);
    const sink: JobEventSink = new JobEventSink(this, jobEventsKey(job), live, () => {
      if (this.open_.get(job.id) === sink) this.open_.delete(job.id);
    });
    this.open_.set(job.id, sink);
    return sink;
  }

  /** A follower appeared for job `id` (announced on the watch channel): its sink goes live. */
  watch(id: string): void {
    const sink = this.open_.get(id);
    if (sink) sink.goLive();
    else {
      const now = Date.now();
      for (const [k, t] of this.earlyWatches) if (now - t >= EARLY_WATCH_MS) this.earlyWatches.delete(k);
      this.earlyWatches.set(id, now);
    }
  }

  /**
   * Marks `sink` as having events to write: on the next interval write, or (`urgent`: a job's first
   * token) at the end of this turn, alone with the other urgent sinks of the turn.
   */
  schedule(sink: JobEventSink, urgent = false): void {
    this.pending.add(sink);
    if (urgent) {
      this.urgent.add(sink);
      this.urgentTurn ??= setImmediate(() => {
        this.urgentTurn = undefined;
        const sinks = [...this.urgent].filter((s) => this.pending.delete(s));
        this.urgent.clear();
        void this.write(sinks, Date.now());
      });
    }
    if (this.scheduled) return;
    const fire = (): void => {
      this.scheduled = undefined;
      void this.send();
    };
    // A full interval even after a quiet spell: what a run writes first (its status) then shares the
    // first token's write, which does not wait.
    const wait = this.intervalMs();
    this.scheduled = wait > 0 ? { timer: setTimeout(fire, wait) } : { immediate: setImmediate(fire) };
  }

  /** The interval after the last write: `flushMs`, stretched by how many jobs that write carried. */
  intervalMs(): number {
    const min = this.options.flushMs ?? 0;
    const max = Math.max(min, this.options.flushMaxMs ?? min);
    return Math.min(max, Math.max(min, (this.lastJobs * 1000) / EVENT_ENTRIES_PER_S));
  }

  /**
   * Writes buffered events now, as one pipeline, and resolves once Redis has them: every sink's, or
   * (`only`) one ending job's. A job's end must not flush the others: under load jobs end every few
   * milliseconds, and flushing everyone's tokens at each end would undo `flushMs`.
   */
  send(only?: JobEventSink): Promise<void> {
    const now = Date.now();
    let sinks: JobEventSink[];
    if (only) {
      if (!this.pending.delete(only)) return Promise.resolve();
      this.urgent.delete(only);
      sinks = [only];
    } else {
      if (this.scheduled) {
        if ('timer' in this.scheduled) clearTimeout(this.scheduled.timer);
        else clearImmediate(this.scheduled.immediate);
        this.scheduled = undefined;
      }
      sinks = [...this.pending];
      this.pending.clear();
      this.urgent.clear();
      if (sinks.length === 0) return Promise.resolve();
      this.lastJobs = sinks.length;
    }
    return this.write(sinks, now);
  }

  private write(sinks: readonly JobEventSink[], now: number): Promise<void> {
    if (sinks.length === 0) return Promise.resolve();
    // A cluster pipeline must stay in one slot: one per shard (the streams carry its hash tag).
    const groups = isCluster(this.redis) ? [...groupBySlot(sinks, (s) => s.key).values()] : [sinks];
    const write = Promise.all(
      groups.map((group) => {
        const pipeline = this.redis.pipeline();
        for (const sink of group) sink.writeTo(pipeline, this.maxLen, this.options.ttlS, now);
        // After the XADDs, on the same connection: a reader that hears of a stream finds its entries.
        pipeline.publish(JOB_STREAMS_CHANNEL, group.map((s) => s.key).join(' '));
        return pipeline.exec().then(
          (results) => {
            const failed = results?.find(([err]) => err !== null);
            if (failed) this.options.onError?.(failed[0]);
          },
          (err: unknown) => this.options.onError?.(err),
        );
      }),
    ).then(() => undefined);
    for (const sink of sinks) sink.written(write);
    return write;
  }
}

/**
 * Stream entries a second a worker aims to stay under while stretching its write interval (up to
 * `flushMaxMs`): 2,000 is 20 followed jobs at 10 ms, 64 jobs at ~32 ms.
 */
export const EVENT_ENTRIES_PER_S = 2000;

/** How long a watch announcement waits for its job's run to start in this worker. */
const EARLY_WATCH_MS = 5000;

/** One job's events; {@link JobEventSink.flush} awaits the write. */
export class JobEventSink {
  private buffer: JobStreamEvent[] = [];
  private last: Promise<void> = Promise.resolve();
  /** When `EXPIRE` was last queued for this stream (0: never). */
  private expiredAt = 0;
  private ending = false;
  /** While nobody follows: the run's latest status and its tokens so far, written on {@link goLive}. */
  private status: JobStreamEvent | undefined;
  private tokens: StreamToken[] = [];
  /** Events of {@link goLive} to write one entry each, before the buffer. */
  private catchUp: JobStreamEvent[] = [];
  /** A token was queued already: only the first one skips the interval. */
  private tokenSeen = false;

  constructor(
    private readonly publisher: JobEventPublisher,
    readonly key: string,
    private live: boolean,
    private readonly closed: () => void,
  ) {}

  /**
   * Queues an event for the publisher's next write (remembered while unwatched); the run's first
   * token goes out at the end of this turn.
   */
  push(event: JobStreamEvent): void {
    if (!this.live) {
      if (event.type === 'token')
        this.tokens.push({ index: event.index, text: event.text, token_id: event.token_id });
      else if (event.type === 'status') this.status = event;
      return;
    }
    const first = event.type === 'token' && !this.tokenSeen;
    if (event.type === 'token') this.tokenSeen = true;
    if (first || (this.buffer.length === 0 && this.catchUp.length === 0))
      this.publisher.schedule(this, first);
    this.buffer.push(event);
  }

  /**
   * A follower appeared: what this run produced so far is written at the end of this turn (each
   * token its own entry, as a live run would have written it), and every event after it.
   */
  goLive(): void {
    if (this.live) return;
    this.live = true;
    const backlog: JobStreamEvent[] = [
      ...(this.status ? [this.status] : []),
      ...this.tokens.map((t): JobStreamEvent => ({ type: 'token', ...t })),
    ];
    this.tokenSeen = this.tokens.length > 0;
    this.status = undefined;
    this.tokens = [];
    if (backlog.length === 0) return;
    this.publisher.schedule(this, true);
    this.catchUp = backlog;
  }

  /** Writes everything queued so far and resolves once Redis has it (errors go to `onError`). */
  async flush(): Promise<void> {
    if (this.buffer.length > 0 || this.catchUp.length > 0) await this.publisher.send(this);
    await this.last;
  }

  /** Queues a final entry (when followed) and flushes; the sink takes no more watches. */
  async end(event: Extract<JobStreamEvent, { type: 'done' | 'error' }>): Promise<void> {
    this.ending = true;
    this.push(event);
    this.closed();
    await this.flush();
  }

  /** The run is over without an end entry (handed back, requeued): stop taking watches. */
  close(): void {
    this.closed();
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
    for (const e of this.catchUp) add(e);
    this.catchUp = [];
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
