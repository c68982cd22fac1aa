import {
  JOB_STREAMS_CHANNEL,
  decodeJobEvents,
  jobEventsKey,
  type JobStreamEntry,
  type JobStreamRef,
} from './job-event-stream';
import { untilReady, isCluster, type RedisClient } from './redis-connection';
import { groupBySlot } from './redis-slots';
import { compareStreamIds, isStreamId, streamReadCursor } from './job-stream-ids';

/** Receives the entries of one subscribed stream, in order, each at most once. */
export type JobEventListener = (entries: JobStreamEntry[]) => void;

/** A live subscription; `close()` is idempotent. */
export interface JobEventSubscription {
  close(): void;
}

/** Settings of {@link JobEventReader}. */
export interface JobEventReaderOptions {
  /** Entries per stream per read (a stream that returns this many is read again at once). */
  count?: number;
  /**
   * Every followed stream is read at least this often, ms, notified or not: the safety net for a
   * notice lost while the subscriber connection was down, or a worker that does not send them.
   */
  pollMs?: number;
  onError?: (err: unknown) => void;
}

interface Sub {
  cursor: string;
  listener: JobEventListener;
}

/** Wait after a failed read before the streams it covered are tried again. */
const RETRY_MS = 500;

/**
 * One reader per API process for every followed job stream. A worker's event write names the
 * streams it appended to on {@link JOB_STREAMS_CHANNEL}; the reader then reads those of them it
 * follows with one non-blocking `XREAD COUNT n STREAMS k… id…` (one per slot on Redis Cluster) —
 * notices of one event-loop turn share a read. A new subscription is read at once from its own
 * cursor (`0` = from the beginning, so a late client gets everything produced so far); every
 * followed stream is also read every `pollMs`, and all of them when the subscriber reconnects.
 *
 * Why not one blocking `XREAD` over every followed stream: that read must be sent again, naming
 * every stream, after each delivery and each new follower (and interrupted with `CLIENT UNBLOCK`
 * for the latter), so its cost grew with the number of followers times the number of writes —
 * 180 µs of Redis per read at 64 followers, more than half of Redis's time in a streamed bench.
 *
 * No entry is lost between the two paths: the channel is subscribed before a stream's first read,
 * so an entry appended before that read is in it, and one appended after is noticed. Subscribers of
 * the same stream at different positions share one read from the lowest cursor; each gets only
 * entries after its own.
 */
export class JobEventReader {
  private readonly subs = new Map<string, Set<Sub>>();
  private readonly count: number;
  /** Followed streams to read on the next pass. */
  private readonly dirty = new Set<string>();
  private pass: NodeJS.Immediate | undefined;
  private reading: Promise<void> | undefined;
  private started: Promise<void> | undefined;
  private listening = false;
  private readonly poll: NodeJS.Timeout;
  private closed = false;

  /**
   * @param subscriber a connection in subscriber mode (it may be shared with other channels).
   * @param redis any command connection: the reads do not block.
   */
  constructor(
    private readonly subscriber: RedisClient,
    private readonly redis: RedisClient,
    private readonly options: JobEventReaderOptions = {},
  ) {
    this.count = options.count ?? 512;
    this.poll = setInterval(() => this.markAll(), options.pollMs ?? 1000).unref();
  }

  /** Streams currently followed (a gauge for tests and operators). */
  get size(): number {
    let n = 0;
    for (const s of this.subs.values()) n += s.size;
    return n;
  }

  /** Follows the stream of `job` from after `fromId` (`0`: from the start). */
  subscribe(job: JobStreamRef, fromId: string, listener: JobEventListener): JobEventSubscription {
    if (this.closed) throw new Error('JobEventReader is closed');
    const key = jobEventsKey(job);
    const sub: Sub = { cursor: isStreamId(fromId) ? fromId : '0', listener };
    let set = this.subs.get(key);
    if (!set) this.subs.set(key, (set = new Set()));
    set.add(sub);
    // Read only once the channel is subscribed (or could not be: the poll then carries it).
    void this.start().then(() => this.mark(key));
    let open = true;
    return {
      close: () => {
        if (!open) return;
        open = false;
        const s = this.subs.get(key);
        s?.delete(sub);
        if (s?.size === 0) this.subs.delete(key);
      },
    };
  }

  /** Stops reading; a read in flight completes first. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poll);
    if (this.pass) clearImmediate(this.pass);
    this.subs.clear();
    this.dirty.clear();
    await this.reading;
  }

  /** Subscribes the channel (again after a failed attempt); resolves either way. */
  private start(): Promise<void> {
    if (!this.listening) {
      this.listening = true;
      this.subscriber.on('message', (channel: string, message: string) => {
        if (channel !== JOB_STREAMS_CHANNEL || this.closed) return;
        let any = false;
        for (const key of message.split(' ')) {
          if (this.subs.has(key)) {
            this.dirty.add(key);
            any = true;
          }
        }
        if (any) this.schedule();
      });
      // Notices sent while the connection was down are lost: read everything once.
      this.subscriber.on('ready', () => this.markAll());
    }
    this.started ??= (async () => {
      await untilReady(this.subscriber);
      await this.subscriber.subscribe(JOB_STREAMS_CHANNEL);
    })().catch((err: unknown) => {
      this.started = undefined;
      this.options.onError?.(err);
    });
    return this.started;
  }

  private mark(key: string): void {
    if (this.closed || !this.subs.has(key)) return;
    this.dirty.add(key);
    this.schedule();
  }

  private markAll(): void {
    if (this.closed || this.subs.size === 0) return;
    void this.start();
    for (const key of this.subs.keys()) this.dirty.add(key);
    this.schedule();
  }

  /** One read pass at the end of this turn, or after the one in flight. */
  private schedule(): void {
    if (this.pass || this.reading || this.closed) return;
    this.pass = setImmediate(() => this.run());
  }

  private run(): void {
    this.pass = undefined;
    const keys = [...this.dirty].filter((k) => this.subs.has(k));
    this.dirty.clear();
    if (keys.length === 0 || this.closed) return;
    this.reading = this.read(keys).finally(() => {
      this.reading = undefined;
      if (this.dirty.size > 0) this.schedule();
    });
  }

  private async read(keys: string[]): Promise<void> {
    // One XREAD may only name keys of one slot on a cluster (a shard's streams share its hash tag).
    const groups = isCluster(this.redis) ? [...groupBySlot(keys, (k) => k).values()] : [keys];
    await Promise.all(
      groups.map(async (group) => {
        const ids = group.map((k) => streamReadCursor(lowestCursor(this.subs.get(k))));
        try {
          const reply = (await this.redis.xread('COUNT', this.count, 'STREAMS', ...group, ...ids)) as
            [string, [string, string[]][]][] | null;
          if (reply) this.dispatch(reply, new Map(group.map((k, i) => [k, ids[i] ?? '0'])));
        } catch (err) {
          if (this.closed) return;
          this.options.onError?.(err);
          setTimeout(() => {
            for (const k of group) this.mark(k);
          }, RETRY_MS).unref();
        }
      }),
    );
  }

  /** `from`: the id each key was read after; a subscriber that joined behind it waits for the next read. */
  private dispatch(reply: [string, [string, string[]][]][], from: Map<string, string>): void {
    for (const [key, raw] of reply) {
      const set = this.subs.get(key);
      if (!set || raw.length === 0) continue;
      // A full read may have left entries behind.
      if (raw.length >= this.count) this.dirty.add(key);
      // Unknown entry types (from a newer worker) are skipped but still advance the cursor.
      const entries = raw.flatMap(([id, fields]) => decodeJobEvents(id, fields));
      const lastId = raw[raw.length - 1]?.[0] ?? '0';
      const readFrom = from.get(key) ?? '0';
      for (const sub of [...set]) {
        if (compareStreamIds(sub.cursor, readFrom) < 0) {
          // Joined behind this read: its own read follows.
          this.dirty.add(key);
          continue;
        }
        const fresh = entries.filter((e) => compareStreamIds(e.id, sub.cursor) > 0);
        if (compareStreamIds(lastId, sub.cursor) > 0) sub.cursor = lastId;
        if (fresh.length > 0) {
          try {
            sub.listener(fresh);
          } catch (err) {
            this.options.onError?.(err);
          }
        }
      }
    }
  }
}

function lowestCursor(set: Set<Sub> | undefined): string {
  let low: string | undefined;
  for (const s of set ?? []) if (low === undefined || compareStreamIds(s.cursor, low) < 0) low = s.cursor;
  return low ?? '0';
}
