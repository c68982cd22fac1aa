import type { RedisClient } from './redis-connection';
import type { JobStatus } from '@hotpath/contracts';
import type { JobRecord } from './job-record';
import type { JobStore } from './job-store';
import { INDEX_TRIM_MAX_GAP_MS, IndexTrimSchedule } from './index-trim-schedule';

/** Per-tenant listing index: a sorted set of job ids scored by creation time (ms). */
export function tenantJobsKey(tenant: string): string {
  return `hp:jobs:{t:${tenant}}`;
}
/** Cross-tenant listing index for operators. */
export const ALL_JOBS_KEY = 'hp:jobs:{all}';

/** Index entries kept per tenant and overall; older ones fall off (their records may still be read by id). */
export const TENANT_INDEX_MAX = 100_000;
export const ALL_INDEX_MAX = 1_000_000;
/** No record lives longer than a pending one (7 days), so older index entries are dropped. */
const INDEX_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** An index key outlives its newest entry's age limit even when its last trim was a gap earlier. */
const INDEX_KEY_TTL_MS = INDEX_MAX_AGE_MS + INDEX_TRIM_MAX_GAP_MS;
/** Index entries read per round while filtering; bounds the work of one listing request. */
const SCAN_BATCH = 200;
const MAX_SCANNED = 2000;

/** What to list. */
export interface JobListQuery {
  /** A tenant's own jobs; `undefined` lists every tenant's (operators). */
  tenant?: string;
  status?: JobStatus;
  model?: string;
  limit: number;
  /** From a previous page's `next_cursor`. */
  cursor?: string;
}

/** One page, newest first. `next_cursor` is null on the last page. */
export interface JobListPage {
  records: JobRecord[];
  next_cursor: string | null;
}

interface Position {
  score: number;
  id: string;
}

/**
 * Job listings without scanning Redis: every new job's id goes into its tenant's index and the
 * overall index, each bounded by count and age (trimmed every few inserts, see
 * {@link IndexTrimSchedule}). Records that expired are skipped (and dropped from
 * the index) when met; filters are applied to records, at most {@link MAX_SCANNED} per page, so a
 * rare filter can answer a short page with a cursor to go on from.
 */
export class JobIndex {
  private readonly trims = new IndexTrimSchedule();

  constructor(
    private readonly redis: RedisClient,
    private readonly store: JobStore,
  ) {}

  /**
   * Adds a new job to both indexes: one `ZADD` each (concurrently: they live in different Redis
   * Cluster slots), pipelined with the index's trim when its schedule says so. No `MULTI`: a trim
   * that missed its insert (connection lost in between) only leaves the index a few entries long.
   */
  async add(tenant: string, id: string, createdAt: number): Promise<void> {
    await Promise.all([
      this.addTo(tenantJobsKey(tenant), id, createdAt, TENANT_INDEX_MAX),
      this.addTo(ALL_JOBS_KEY, id, createdAt, ALL_INDEX_MAX),
    ]);
  }

  async list(q: JobListQuery): Promise<JobListPage> {
    const key = q.tenant === undefined ? ALL_JOBS_KEY : tenantJobsKey(q.tenant);
    let from = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const out: JobRecord[] = [];
    let scanned = 0;
    for (;;) {
      const batch = await this.entriesBefore(key, from, SCAN_BATCH);
      if (batch.length === 0) return { records: out, next_cursor: null };
      const records = await this.store.getMany(batch.map((e) => e.id));
      const gone: string[] = [];
      for (const [i, e] of batch.entries()) {
        scanned += 1;
        from = e;
        const r = records[i];
        if (!r) {
          gone.push(e.id);
          continue;
        }
        if (q.tenant !== undefined && r.tenant !== q.tenant) continue;
        if (q.status !== undefined && r.status !== q.status) continue;
        if (q.model !== undefined && r.model !== q.model) continue;
        out.push(r);
        if (out.length === q.limit) {
          if (gone.length > 0) void this.redis.zrem(key, ...gone).catch(() => undefined);
          return { records: out, next_cursor: encodeCursor(e) };
        }
      }
      if (gone.length > 0) void this.redis.zrem(key, ...gone).catch(() => undefined);
      if (batch.length < SCAN_BATCH) return { records: out, next_cursor: null };
      if (scanned >= MAX_SCANNED && from) return { records: out, next_cursor: encodeCursor(from) };
    }
  }

  private async addTo(key: string, id: string, createdAt: number, max: number): Promise<void> {
    if (!this.trims.insert(key, createdAt)) {
      await this.redis.zadd(key, createdAt, id);
      return;
    }
    const res = await this.redis
      .pipeline()
      .zadd(key, createdAt, id)
      .zremrangebyscore(key, '-inf', `(${createdAt - INDEX_MAX_AGE_MS}`)
      .zremrangebyrank(key, 0, -(max + 1))
      .pexpire(key, INDEX_KEY_TTL_MS)
      .exec();
    for (const [err] of res ?? []) if (err) throw err;
  }

  /**
   * Entries strictly after `from` in newest-first order (score descending, then id descending, as
   * `ZRANGE ... REV` returns ties). Ties with the cursor's score are skipped by id.
   */
  private async entriesBefore(key: string, from: Position | undefined, count: number): Promise<Position[]> {
    const max = from === undefined ? '+inf' : String(from.score);
    const out: Position[] = [];
    for (let offset = 0; ; offset += count) {
      const raw = await this.redis.zrange(
        key,
        max,
        '-inf',
        'BYSCORE',
        'REV',
        'LIMIT',
        offset,
        count,
        'WITHSCORES',
      );
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const e = { id: raw[i] as string, score: Number(raw[i + 1]) };
        if (from && e.score === from.score && e.id >= from.id) continue;
        out.push(e);
      }
      // A page wholly made of ties already seen: read on rather than answer an empty page.
      if (out.length > 0 || raw.length < count * 2) return out;
    }
  }
}

function encodeCursor(p: Position): string {
  return Buffer.from(`${p.score}:${p.id}`).toString('base64url');
}

/** Throws a plain `Error` for a cursor this index did not make (the API turns it into a 400). */
export function decodeCursor(cursor: string): Position {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(\d{1,16}):([\x21-\x7e]{1,128})$/.exec(text);
  if (!m?.[1] || !m[2]) throw new Error('not a cursor of this listing');
  return { score: Number(m[1]), id: m[2] };
}
