import { untilReady, type RedisClient } from './redis-connection';
import type { JobRecord } from './job-record';
import { isTerminal } from './job-record';
import { JOB_EVENTS_CHANNEL, type JobStore } from './job-store';

type Listener = () => void;

/**
 * Lets many HTTP requests wait for job completion over one Redis subscription, without polling.
 * The worker's terminal transition publishes `<id> <status>` on {@link JOB_EVENTS_CHANNEL}; each
 * waiter registers first and reads the record second, so a completion between the two is not lost.
 * After a reconnect (events may have been missed) every waiter re-reads its record.
 */
export class JobWaiter {
  private readonly listeners = new Map<string, Set<Listener>>();
  private started: Promise<void> | undefined;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly store: JobStore,
  ) {}

  start(): Promise<void> {
    this.started ??= (async () => {
      this.subscriber.on('message', (channel: string, message: string) => {
        if (channel !== JOB_EVENTS_CHANNEL) return;
        const id = message.slice(0, message.indexOf(' '));
        this.notify(id);
      });
      this.subscriber.on('ready', () => {
        for (const id of this.listeners.keys()) this.notify(id);
      });
      await untilReady(this.subscriber);
      await this.subscriber.subscribe(JOB_EVENTS_CHANNEL);
    })();
    return this.started;
  }

  /**
   * Resolves with the record once it is terminal, or with its current state after `timeoutMs`
   * (or when `signal` aborts, or as soon as a read satisfies `stopIf`). `undefined` when the
   * record does not exist.
   */
  async waitForTerminal(
    id: string,
    timeoutMs: number,
    signal?: AbortSignal,
    stopIf?: (rec: JobRecord) => boolean,
  ): Promise<JobRecord | undefined> {
    await this.start();
    let wake: Listener = () => undefined;
    const woke = (): Promise<void> => new Promise<void>((r) => (wake = r));
    let pending = woke();
    const listener: Listener = () => wake();
    this.add(id, listener);
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const rec = await this.store.get(id);
        if (!rec || isTerminal(rec.status) || stopIf?.(rec)) return rec;
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted) return rec;
        let timer: NodeJS.Timeout | undefined;
        const onAbort = (): void => wake();
        signal?.addEventListener('abort', onAbort, { once: true });
        await Promise.race([pending, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        pending = woke();
      }
    } finally {
      this.remove(id, listener);
    }
  }

  /** Number of requests currently waiting (a gauge for operators and tests). */
  get waiting(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  private notify(id: string): void {
    const set = this.listeners.get(id);
    if (set) for (const l of set) l();
  }

  private add(id: string, l: Listener): void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(l);
  }

  private remove(id: string, l: Listener): void {
    const set = this.listeners.get(id);
    if (!set) return;
    set.delete(l);
    if (set.size === 0) this.listeners.delete(id);
  }
}
