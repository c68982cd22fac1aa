import { decodeJobEvents, jobEventsKey, type JobStreamEntry, type JobStreamRef } from './job-event-stream';
import type { RedisClient } from './redis-connection';
import { compareStreamIds, isStreamId, streamReadCursor } from './job-stream-ids';

/** Receives the entries of one subscribed stream, in order, each at most once. */
export type JobEventListener = (entries: JobStreamEntry[]) => void;

/** A live subscription; `close()` is idempotent. */
export interface JobEventSubscription {
  close(): void;
}

/** Settings of {@link JobEventReader}. */
export interface JobEventReaderOptions {
  /** Longest single `XREAD BLOCK`, ms (new subscriptions interrupt it with `CLIENT UNBLOCK`). */
  blockMs?: number;
  /** Entries per stream per read. */
  count?: number;
  /**
   * Whether a new subscription interrupts the blocked read with `CLIENT UNBLOCK` (default true).
   * Off on Redis Cluster, where the control connection may reach another node: a new subscription
   * then waits for the current read to time out (`blockMs`, kept short there).
   */
  unblock?: boolean;
  onError?: (err: unknown) => void;
}

/** What {@link JobEventReader} and its per-slot variant on Redis Cluster offer the API. */
export interface JobEventFeed {
  readonly size: number;
  subscribe(job: JobStreamRef, fromId: string, listener: JobEventListener): JobEventSubscription;
  close(): Promise<void>;
}

interface Sub {
  cursor: string;
  listener: JobEventListener;
}

/**
 * One reader per process multiplexing every followed job stream over ONE blocking connection: a
 * single `XREAD COUNT n BLOCK ms STREAMS k1 k2 ... id1 id2 ...` loop serves all subscribers, so a
 * thousand SSE clients cost one Redis connection, not a thousand. A new subscription starts at its
 * own cursor (`0` = from the beginning, so a late client gets everything produced so far) and
 * interrupts the blocked read through `CLIENT UNBLOCK` on the control connection, so it is served
 * at once. Subscribers of the same stream at different positions share one read from the lowest
 * cursor; each gets only entries after its own.
 *
 * The keys of one XREAD must share a slot on Redis Cluster: there, one reader serves the streams of
 * one shard (they carry its hash tag), see {@link SlotGroupedJobEventReader}.
 */
export class JobEventReader implements JobEventFeed {
  private readonly subs = new Map<string, Set<Sub>>();
  private readonly blockMs: number;
  private readonly count: number;
  private clientId: string | undefined;
  private loopDone: Promise<void> | undefined;
  private reading = false;
  private readSeq = 0;
  private unblockSent = false;
  private closed = false;
  private wake: (() => void) | undefined;

  /**
   * @param blocking a connection used for nothing else (it sits in `XREAD BLOCK`), with an offline
   *   queue (`createRedisConnection(url, 'worker')`).
   * @param control any other connection, used to send `CLIENT UNBLOCK`.
   */
  constructor(
    private readonly blocking: RedisClient,
    private readonly control: RedisClient,
    private readonly options: JobEventReaderOptions = {},
  ) {
    this.blockMs = options.blockMs ?? 5000;
    this.count = options.count ?? 512;
    if (options.unblock === false) return;
    blocking.on('ready', () => void this.fetchClientId());
    if (blocking.status === 'ready') void this.fetchClientId();
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
    this.loopDone ??= this.loop();
    this.interrupt();
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

  /** Stops the loop (the caller closes the connections afterwards). */
  async close(): Promise<void> {
    this.closed = true;
    this.subs.clear();
    this.wake?.();
    // Not through interrupt(): its retries stop once closed, and the loop must not sit out a block.
    if (this.reading && this.clientId !== undefined)
      await this.control.call('CLIENT', 'UNBLOCK', this.clientId).catch(() => undefined);
    await this.loopDone;
  }

  private async fetchClientId(): Promise<void> {
    try {
      const id = await this.blocking.call('CLIENT', 'ID');
      this.clientId = String(id);
    } catch {
      this.clientId = undefined;
    }
  }

  /** Wakes the loop: from its idle wait, or out of a blocked XREAD. */
  private interrupt(): void {
    if (this.wake) {
      this.wake();
      return;
    }
    if (!this.reading || this.unblockSent) return;
    this.unblockSent = true;
    this.unblock(this.readSeq, 0);
  }

  /**
   * `CLIENT UNBLOCK` travels on another connection and can overtake the XREAD it targets (then it is
   * a no-op), so it is repeated a few times while the same read is still pending.
   */
  private unblock(seq: number, tries: number): void {
    if (this.closed || !this.reading || seq !== this.readSeq || tries >= 5) return;
    if (this.clientId !== undefined)
      this.control.call('CLIENT', 'UNBLOCK', this.clientId).catch(() => undefined);
    setTimeout(() => this.unblock(seq, tries + 1), 25 * (tries + 1)).unref();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      if (this.subs.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const keys = [...this.subs.keys()];
      const ids = keys.map((k) => streamReadCursor(lowestCursor(this.subs.get(k))));
      let reply: [string, [string, string[]][]][] | null;
      this.reading = true;
      this.readSeq++;
      this.unblockSent = false;
      try {
        reply = await this.blocking.xread(
          'COUNT',
          this.count,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          ...keys,
          ...ids,
        );
      } catch (err) {
        this.reading = false;
        if (this.closed) break;
        this.options.onError?.(err);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      this.reading = false;
      if (reply) this.dispatch(reply, new Map(keys.map((k, i) => [k, ids[i] ?? '0'])));
    }
  }

  /** `from`: the id each key was read after; a subscriber that joined behind it waits for the next read. */
  private dispatch(reply: [string, [string, string[]][]][], from: Map<string, string>): void {
    for (const [key, raw] of reply) {
      const set = this.subs.get(key);
      if (!set || raw.length === 0) continue;
      // Unknown entry types (from a newer worker) are skipped but still advance the cursor.
      const entries = raw.flatMap(([id, fields]) => decodeJobEvents(id, fields));
      const lastId = raw[raw.length - 1]?.[0] ?? '0';
      const readFrom = from.get(key) ?? '0';
      for (const sub of [...set]) {
        if (compareStreamIds(sub.cursor, readFrom) < 0) continue;
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
