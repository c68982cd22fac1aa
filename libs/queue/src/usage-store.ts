import type { RedisClient } from './redis-connection';

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
 * (`hp:usage:{tenant}:<minute>`, fields `<model>/<counter>`), expiring after the retention. One
 * script call per recorded event; a report reads one hash per minute of its window.
 */
export class UsageStore {
  constructor(
    private readonly redis: RedisClient,
    /** Read at each write, so a reloaded retention applies at once. */
    private readonly retentionS: () => number,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand('hpUsageAdd', { numberOfKeys: 1, lua: ADD_LUA });
  }

  static key(tenant: string, minute: number): string {
    return `hp:usage:{${tenant}}:${minute}`;
  }

  /** Adds to the counters of `tenant` and `model` in the current minute; zero amounts are left out. */
  async add(tenant: string, model: string, counts: Partial<UsageCounts>): Promise<void> {
    const args: (string | number)[] = [];
    for (const [k, v] of Object.entries(counts)) if (v) args.push(`${model}/${k}`, Math.round(v));
    if (args.length === 0) return;
    const minute = Math.floor(this.now() / USAGE_BUCKET_MS);
    await (
      this.redis as unknown as { hpUsageAdd(k: string, ...a: (string | number)[]): Promise<number> }
    ).hpUsageAdd(UsageStore.key(tenant, minute), this.retentionS(), ...args);
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
