import type { RedisClient } from './redis-connection';
import { UsageTally, type UsageBatch } from './usage-tally';

/** Counters kept per tenant, model and minute. */
export const USAGE_COUNTERS = [
  'completed',
  'failed',
  'cancelled',
  'cache_hits',
  'rate_limited',
  'prompt_tokens',
  'completion_tokens',
] as const;
export type UsageCounter = (typeof USAGE_COUNTERS)[number];
export type UsageCounts = Record<UsageCounter, number>;

export const USAGE_BUCKET_MS = 60_000;
/** How long an API or worker process sums usage before writing it (the delay of `GET /v1/usage`). */
export const USAGE_FLUSH_MS = 1000;

/** Adds ARGV pairs (field, amount) to the bucket hash KEYS[1] and sets its expiry ARGV[1] (s). */
const ADD_LUA = `
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;

/** A tenant's usage over a window: totals and per model. */
export interface UsageReport {
  startMs: number;
  endMs: number;
  totals: UsageCounts & { jobs: number };
  models: Record<string, UsageCounts & { jobs: number }>;
}

const zero = (): UsageCounts & { jobs: number } => ({
  jobs: 0,
  ...(Object.fromEntries(USAGE_COUNTERS.map((c) => [c, 0])) as UsageCounts),
});

/**
 * Time-bucketed usage counters in Redis: one hash per tenant and minute
 * (`hp:usage:{tenant}:<minute>`, fields `<model>/<counter>`), expiring after the retention. A report
 * reads one hash per minute of its window.
 *
 * With `flushMs` > 0 (the API and the workers) an event is summed in memory under the minute it
 * happened in, and the sums are written every `flushMs` (one script call per tenant and minute that
 * changed, in one pipeline), and on {@link close}: counts reach Redis up to `flushMs` late, each
 * still in its own minute. A write that fails is kept and tried again with the next one. A process
 * that dies without closing loses what it summed since its last write: at most `flushMs` of its
 * counts. With `flushMs` 0 every event is one script call, written before `add` resolves.
 */
export class UsageStore {
  private readonly tally = new UsageTally();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisClient,
    /** Read at each write, so a reloaded retention applies at once. */
    private readonly retentionS: () => number,
    private readonly now: () => number = Date.now,
    private readonly flushMs = 0,
    /** Told about a write that failed (its counts are kept for the next one). */
    private readonly onFlushError: (err: unknown) => void = () => undefined,
  ) {
    redis.defineCommand('hpUsageAdd', { numberOfKeys: 1, lua: ADD_LUA });
  }

  static key(tenant: string, minute: number): string {
    return `hp:usage:{${tenant}}:${minute}`;
  }

  /**
   * Adds to the counters of `tenant` and `model` in the current minute; zero amounts are left out.
   * Buffered (see the class): resolves at once, the write follows within `flushMs`.
   */
  async add(tenant: string, model: string, counts: Partial<UsageCounts>): Promise<void> {
    const key = UsageStore.key(tenant, Math.floor(this.now() / USAGE_BUCKET_MS));
    if (this.flushMs > 0) {
      for (const [k, v] of Object.entries(counts)) this.tally.add(key, `${model}/${k}`, Math.round(v ?? 0));
      if (this.tally.size > 0) this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
      return;
    }
    const args: (string | number)[] = [];
    for (const [k, v] of Object.entries(counts)) if (v) args.push(`${model}/${k}`, Math.round(v));
    if (args.length > 0) await this.write(key, args);
  }

  /** Writes what was summed so far (one at a time: a write waits for the one before it). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    const batch = this.tally.take();
    if (batch.size === 0) return;
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = undefined;
      if (this.tally.size > 0 && this.flushMs > 0)
        this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
    });
    await this.flushing;
  }

  /** Writes what is left (at shutdown, before the connection closes). */
  async close(): Promise<void> {
    await this.flush();
  }

  private async writeBatch(batch: UsageBatch): Promise<void> {
    const retention = this.retentionS();
    // One call per hash, concurrently: the tenants' hashes live in different Redis Cluster slots.
    const entries = [...batch];
    const results = await Promise.allSettled(
      entries.map(([key, fields]) => this.write(key, [...fields].flat(), retention)),
    );
    const failed: UsageBatch = new Map();
    let firstError: unknown;
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') continue;
      const [key, fields] = entries[i] as [string, Map<string, number>];
      failed.set(key, fields);
      firstError ??= r.reason;
    }
    if (failed.size === 0) return;
    // Counts older than the retention would be written into a minute nobody may read any more.
    const oldest = Math.floor((this.now() - retention * 1000) / USAGE_BUCKET_MS);
    this.tally.restore(failed, (key) => Number(key.slice(key.lastIndexOf(':') + 1)) >= oldest);
    this.onFlushError(firstError);
  }

  private async write(key: string, args: (string | number)[], retentionS = this.retentionS()): Promise<void> {
    await (
      this.redis as unknown as { hpUsageAdd(k: string, ...a: (string | number)[]): Promise<number> }
    ).hpUsageAdd(key, retentionS, ...args);
  }

  /** The usage of `tenant` in the minutes overlapping [startMs, endMs). */
  async report(tenant: string, startMs: number, endMs: number): Promise<UsageReport> {
    const first = Math.floor(startMs / USAGE_BUCKET_MS);
    const last = Math.ceil(endMs / USAGE_BUCKET_MS);
    const pipe = this.redis.pipeline();
    for (let m = first; m < last; m++) pipe.hgetall(UsageStore.key(tenant, m));
    const res = (await pipe.exec()) ?? [];
    const report: UsageReport = {
      startMs: first * USAGE_BUCKET_MS,
      endMs: last * USAGE_BUCKET_MS,
      totals: zero(),
      models: {},
    };
    for (const [err, h] of res) {
      if (err) throw err;
      for (const [field, value] of Object.entries((h ?? {}) as Record<string, string>)) {
        const slash = field.lastIndexOf('/');
        const counter = field.slice(slash + 1) as UsageCounter;
        if (!USAGE_COUNTERS.includes(counter)) continue;
        const model = field.slice(0, slash);
        const n = Number(value);
        const m = (report.models[model] ??= zero());
        m[counter] += n;
        report.totals[counter] += n;
      }
    }
    for (const c of [report.totals, ...Object.values(report.models)])
      c.jobs = c.completed + c.failed + c.cancelled + c.cache_hits;
    return report;
  }
}
