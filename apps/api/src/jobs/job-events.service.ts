import { ErrorCode, HotpathError, type JobStatus } from '@hotpath/contracts';
import {
  compareStreamIds,
  decodeJobEvents,
  isTerminal,
  jobEventsKey,
  type JobEventReader,
  type JobRecord,
  type JobStore,
  type JobStreamEntry,
  type JobWaiter,
  type StreamToken,
  streamReadCursor,
  type RedisClient,
} from '@hotpath/queue';
import { assertRedisReady } from '../redis/redis-availability';

/** What a follower of a job sees, in order. */
export type FollowEvent =
  | { type: 'status'; id?: string; status: JobStatus; attempt?: number }
  | ({ type: 'token'; id: string } & StreamToken)
  /** Last event: the finished record (`undefined` when it expired meanwhile). */
  | { type: 'end'; record: JobRecord | undefined };

/** Entries read per XRANGE when draining a stream after its job ended. */
const DRAIN_COUNT = 1000;
/** Re-arm period of the terminal-state watch (the waiter itself wakes on the job's event). */
const WATCH_SLICE_MS = 60_000;

/**
 * Follows one job for SSE and OpenAI streams. Tokens come from the job's Redis Stream through the
 * process-wide {@link JobEventReader} (late clients start at `0` and get every token produced so
 * far). The end comes from whichever is seen first: the worker's `done`/`error` entry, or the
 * record turning terminal (a queued job cancelled by the API, a cache hit, a stall failure write no
 * stream entry). After an end seen on the record alone the stream is drained once more, so no
 * token is lost; after the stream's own last entry there is nothing left to read.
 */
export class JobEventsService {
  constructor(
    private readonly reader: JobEventReader,
    private readonly store: JobStore,
    private readonly waiter: JobWaiter,
    private readonly producer: RedisClient,
  ) {}

  /** The tenant's job record; 404 for unknown ids and other tenants' jobs alike. */
  async record(tenant: string, id: string): Promise<JobRecord> {
    assertRedisReady(this.producer);
    const rec = await this.store.get(id);
    if (!rec || rec.tenant !== tenant) {
      throw new HotpathError(ErrorCode.NotFound, `job "${id.slice(0, 64)}" not found`);
    }
    return rec;
  }

  /**
   * The events of `first`'s job after stream id `fromId` (`0`: all): its current status, then
   * stream entries as they come, then `end`. Stops early when `signal` aborts.
   */
  async *follow(first: JobRecord, fromId: string, signal: AbortSignal): AsyncGenerator<FollowEvent> {
    const id = first.id;
    const pending: JobStreamEntry[] = [];
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    let cursor = fromId;
    let terminal = isTerminal(first.status);
    // The terminal record as the watch read it: the end then needs no read of its own.
    let last: { record: JobRecord | undefined } | undefined = terminal ? { record: first } : undefined;
    const stop = new AbortController();
    const stopped = AbortSignal.any([signal, stop.signal]);
    stopped.addEventListener('abort', notify, { once: true });
    const sub = this.reader.subscribe(first, fromId, (entries) => {
      pending.push(...entries);
      notify();
    });
    if (!terminal) {
      // Its worker writes token events only for followed jobs; tokens produced so far come with them.
      if (!first.watched) await this.store.watch(id).catch(() => undefined);
      void this.watchTerminal(id, stopped).then((ended) => {
        if (ended) {
          terminal = true;
          last = ended;
          notify();
        }
      });
    }
    try {
      // A finished job's stream replays its own story (running, tokens); its end follows.
      if (!isTerminal(first.status)) {
        yield {
          type: 'status',
          status: first.status,
          ...(first.status === 'running' ? { attempt: first.attempts } : {}),
        };
      }
      // Set when the stream's own `done`/`error` entry was read: nothing follows it.
      let ended = false;
      while (!ended) {
        while (pending.length > 0 && !ended) {
          const e = pending.shift();
          if (!e) break;
          cursor = e.id;
          if (e.type === 'done' || e.type === 'error') ended = true;
          else yield toFollowEvent(e);
        }
        if (ended || stopped.aborted) break;
        if (terminal) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (signal.aborted) return;
      sub.close();
      for (const e of pending) if (e.type !== 'done' && e.type !== 'error') yield toFollowEvent(e);
      if (pending.length > 0) cursor = pending[pending.length - 1]?.id ?? cursor;
      pending.length = 0;
      // An end seen on the record only (a queued job cancelled, a stall failure, a worker's last
      // entries still on their way) may leave entries behind the cursor: read them once more.
      if (!ended) for await (const e of this.drain(first, cursor)) yield e;
      yield { type: 'end', record: last ? last.record : await this.store.get(id) };
    } finally {
      sub.close();
      stop.abort();
    }
  }

  /**
   * Resolves with the record once it is terminal (`undefined` when it is gone), `false` when
   * `signal` aborted first.
   */
  private async watchTerminal(
    id: string,
    signal: AbortSignal,
  ): Promise<{ record: JobRecord | undefined } | false> {
    while (!signal.aborted) {
      try {
        const rec = await this.waiter.waitForTerminal(id, WATCH_SLICE_MS, signal);
        if (!rec || isTerminal(rec.status)) return { record: rec };
      } catch {
        // Redis trouble: look again shortly rather than end a healthy stream.
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    return false;
  }

  /** Whatever the stream holds after event id `cursor` (exclusive), markers left out. */
  private async *drain(job: JobRecord, cursor: string): AsyncGenerator<FollowEvent> {
    // A cursor inside a multi-token entry re-reads that entry and skips the tokens already sent.
    let from = streamReadCursor(cursor);
    for (;;) {
      const batch = await this.producer.xrange(jobEventsKey(job), `(${from}`, '+', 'COUNT', DRAIN_COUNT);
      for (const [entryId, fields] of batch) {
        for (const e of decodeJobEvents(entryId, fields)) {
          if (e.type !== 'done' && e.type !== 'error' && compareStreamIds(e.id, cursor) > 0)
            yield toFollowEvent(e);
        }
      }
      if (batch.length < DRAIN_COUNT) return;
      from = batch[batch.length - 1]?.[0] ?? from;
    }
  }
}

function toFollowEvent(e: Exclude<JobStreamEntry, { type: 'done' | 'error' }>): FollowEvent {
  if (e.type === 'token')
    return { type: 'token', id: e.id, index: e.index, text: e.text, token_id: e.token_id };
  return {
    type: 'status',
    id: e.id,
    status: e.status,
    ...(e.attempt !== undefined ? { attempt: e.attempt } : {}),
  };
}
