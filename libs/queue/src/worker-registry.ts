import type { RedisClient } from './redis-connection';

/**
 * One Redis hash holds every worker's latest heartbeat (field = worker id, value = JSON): a single
 * key, so one `HGETALL` reads the fleet and it works unchanged on Redis Cluster.
 */
export const WORKERS_KEY = 'hp:workers';
/** How often a worker refreshes its heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 2000;
/** A heartbeat older than this is a dead (or partitioned) worker: five missed beats. */
export const HEARTBEAT_STALE_MS = 10_000;
/** Entries this old are removed by any worker's beat, so crashed workers do not pile up. */
const PRUNE_AFTER_MS = 3_600_000;

/** What a worker says about one model it serves. */
export interface ServedModelBeat {
  model: string;
  backend: string;
  /** Shard queues it takes jobs from as their own worker. */
  shards: number[];
  /** Whether it also steals from the model's other shards when idle (so those are served too). */
  steals: boolean;
  /** Unix seconds the model files were last written (the model version's age); `null` for `sim`. */
  created: number | null;
  /** Graph variants (dtypes) present in the model folder, e.g. `["fp32", "q4"]`. */
  variants: string[];
  /** The variant this worker runs, when the folder has several. */
  dtype?: string;
}

/** A worker's heartbeat, as stored under {@link WORKERS_KEY}. */
export interface WorkerHeartbeat {
  worker_id: string;
  host: string;
  pid: number;
  /** Unix milliseconds. */
  started_at: number;
  /** Unix milliseconds of this beat. */
  last_seen: number;
  active_jobs: number;
  version: string;
  models: ServedModelBeat[];
}

/** A live worker's heartbeat plus whether it is fresh. */
export interface WorkerStatus extends WorkerHeartbeat {
  alive: boolean;
}

/** Workers announce themselves here; the API reads who serves what. */
export class WorkerRegistry {
  constructor(private readonly redis: RedisClient) {}

  async beat(hb: WorkerHeartbeat): Promise<void> {
    await this.redis.hset(WORKERS_KEY, hb.worker_id, JSON.stringify(hb));
  }

  /** A cleanly stopped worker leaves at once instead of looking alive until its beat goes stale. */
  async leave(workerId: string): Promise<void> {
    await this.redis.hdel(WORKERS_KEY, workerId);
  }

  /** Every heartbeat on record (fresh or stale), newest first. */
  async list(now = Date.now()): Promise<WorkerStatus[]> {
    const all = await this.redis.hgetall(WORKERS_KEY);
    const out: WorkerStatus[] = [];
    for (const raw of Object.values(all)) {
      const hb = parseHeartbeat(raw);
      if (hb) out.push({ ...hb, alive: now - hb.last_seen <= HEARTBEAT_STALE_MS });
    }
    return out.sort((a, b) => b.last_seen - a.last_seen);
  }

  /** Removes heartbeats older than an hour (crashed workers); returns how many. */
  async prune(now = Date.now()): Promise<number> {
    const stale = (await this.list(now)).filter((w) => now - w.last_seen > PRUNE_AFTER_MS);
    if (stale.length === 0) return 0;
    return this.redis.hdel(WORKERS_KEY, ...stale.map((w) => w.worker_id));
  }
}

/** Which shards of which models have a live worker (own or stealing), from a heartbeat list. */
export class Availability {
  private readonly served = new Map<string, { shards: Set<number>; all: boolean; workers: number }>();

  constructor(readonly workers: readonly WorkerStatus[]) {
    for (const w of workers) {
      if (!w.alive) continue;
      for (const m of w.models) {
        const e = this.served.get(m.model) ?? { shards: new Set<number>(), all: false, workers: 0 };
        m.shards.forEach((s) => e.shards.add(s));
        e.all ||= m.steals;
        e.workers += 1;
        this.served.set(m.model, e);
      }
    }
  }

  /** Live workers serving `model` (any shard). */
  workerCount(model: string): number {
    return this.served.get(model)?.workers ?? 0;
  }

  /** Whether a live worker takes jobs from this shard (its own worker, or one that steals). */
  servesShard(model: string, shard: number): boolean {
    const e = this.served.get(model);
    return e !== undefined && (e.all || e.shards.has(shard));
  }

  /** Shards `0..shards-1` of `model` that no live worker takes jobs from. */
  unservedShards(model: string, shards: number): number[] {
    return Array.from({ length: shards }, (_, s) => s).filter((s) => !this.servesShard(model, s));
  }

  /** The freshest heartbeat's view of `model` (its metadata), if any live worker serves it. */
  modelInfo(model: string): ServedModelBeat | undefined {
    for (const w of this.workers) {
      if (!w.alive) continue;
      const m = w.models.find((x) => x.model === model);
      if (m) return m;
    }
    return undefined;
  }
}

/**
 * A memo of {@link Availability} for the hot path: at most one read per `maxAgeMs`, shared by
 * concurrent callers. `fresh()` re-reads unless the memo is younger than `minAgeMs`, so a request
 * that found its model unserved looks again before refusing (a worker may have just started).
 */
export class AvailabilityCache {
  private memo: { at: number; value: Promise<Availability> } | undefined;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly maxAgeMs = 1000,
    private readonly minAgeMs = 200,
    private readonly now: () => number = Date.now,
  ) {}

  current(): Promise<Availability> {
    return this.read(this.maxAgeMs);
  }

  fresh(): Promise<Availability> {
    return this.read(this.minAgeMs);
  }

  private read(maxAge: number): Promise<Availability> {
    const t = this.now();
    if (this.memo && t - this.memo.at < maxAge) return this.memo.value;
    const value = this.registry.list(t).then((w) => new Availability(w));
    this.memo = { at: t, value };
    value.catch(() => {
      if (this.memo?.value === value) this.memo = undefined;
    });
    return value;
  }
}

function parseHeartbeat(raw: string): WorkerHeartbeat | undefined {
  try {
    const v = JSON.parse(raw) as Partial<WorkerHeartbeat>;
    if (typeof v.worker_id !== 'string' || typeof v.last_seen !== 'number' || !Array.isArray(v.models)) {
      return undefined;
    }
    return v as WorkerHeartbeat;
  } catch {
    return undefined;
  }
}
