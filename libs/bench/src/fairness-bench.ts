import { loadavg } from 'node:os';
import { HotpathClient, type PolledView } from '@hotpath/job-client';
import { createRedisConnection, waitForRedis } from '@hotpath/queue';
import { withBenchRun, type BenchCluster } from './bench-cluster';
import type { BenchIo } from './batching-bench';
import {
  FAIRNESS_BENCH,
  benchKeys,
  fairnessClusterConfig,
  pacedCapacity,
  type FairnessBenchOptions,
  type FairnessPhase,
} from './fairness-plan';
import { scrapeMetrics, promValue } from './prom-text';
import { percentile } from './stats';

/** What `hotpath bench fairness` measured. */
export interface FairnessReport {
  load_average: number[];
  capacity_jobs_per_s: number;
  /** Each phase is null when `--phases` left it out. */
  latency: {
    seconds: number;
    b_alone: LatencyFigures;
    b_under_flood: LatencyFigures;
    ratio_p50: number | null;
    flood: { offered_jobs_per_s: number; accepted: number; refused: number };
    target_met: boolean;
  } | null;
  weights: {
    seconds: number;
    served: { heavy: number; light: number };
    ratio: number | null;
    target_met: boolean;
  } | null;
  throughput: {
    seconds_per_run: number;
    on_jobs_per_s: number;
    off_jobs_per_s: number;
    on_vs_off: number | null;
    redis_commands_per_job: { on: number | null; off: number | null };
    target_met: boolean;
  } | null;
}

interface LatencyFigures {
  jobs: number;
  p50_ms: number | null;
  p90_ms: number | null;
  rate_limited: number;
  failed: number;
  /**
   * Medians of where the completed jobs spent their time (the job's `timings_ms`): `queue` from
   * admission to a worker slot (fair queue, BullMQ), `batch_wait` inside the worker until its
   * forward started (the model's scheduler), `inference` its forwards, `outside` the rest of the
   * client's latency (HTTP, admission, result delivery).
   */
  parts_p50_ms: {
    queue: number | null;
    batch_wait: number | null;
    inference: number | null;
    outside: number | null;
  };
}

/** One job's client-side latency and the worker's timings of it. */
interface JobTiming {
  ms: number;
  queue: number | null;
  batch_wait: number | null;
  inference: number | null;
  total: number | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `hotpath bench fairness` (see BENCH_FAIRNESS_USAGE): one cluster (API + worker processes,
 * the sim backend) and three phases in an order that keeps each one's leftovers out of the next
 * one's figures: throughput first, then latency, then weights.
 */
export async function runFairnessBench(
  opts: FairnessBenchOptions,
  env: NodeJS.ProcessEnv,
  io: BenchIo,
): Promise<FairnessReport> {
  return withBenchRun('hotpath-bench-fair-', opts, env, io, async (run) => {
    const keys = benchKeys();
    const cluster = await run.startCluster('cluster', fairnessClusterConfig(), {
      HOTPATH_API_KEYS: keys.env,
    });
    try {
      const client = new BenchClient(cluster, keys.key);
      const on = (p: FairnessPhase): boolean => opts.phases.includes(p);
      const throughput = on('cost') ? await throughputPhase(client, run.redis.url, opts, io) : null;
      const latency = on('latency') ? await latencyPhase(client, opts, io) : null;
      const weights = on('weights') ? await weightsPhase(client, cluster, opts, io) : null;
      const failure = cluster.failure();
      if (failure) throw new Error(failure);
      return {
        load_average: loadavg().map((v) => Number(v.toFixed(2))),
        capacity_jobs_per_s: pacedCapacity(),
        latency,
        weights,
        throughput,
      };
    } finally {
      await cluster.stop();
    }
  });
}

/** Submissions as the bench's tenants. */
class BenchClient {
  private readonly base: HotpathClient;

  constructor(
    cluster: BenchCluster,
    private readonly key: (tenant: string) => string,
  ) {
    // A batch of hundreds of jobs is one request: the API may take a while to admit them all.
    this.base = new HotpathClient(cluster.apiBase, undefined, 30_000);
  }

  private client(tenant: string): HotpathClient {
    return this.base.withKey(this.key(tenant));
  }

  /** One job, waited for; the end-to-end latency in ms and the job's timings, or the refusal. */
  async runOne(tenant: string, model: string): Promise<{ status: number; timing: JobTiming }> {
    const t0 = performance.now();
    const { submitted, view } = await this.client(tenant).submitAndWait<TimedView>(job(model));
    const t = view.timings_ms;
    const timing: JobTiming = {
      ms: performance.now() - t0,
      queue: t?.queue ?? null,
      batch_wait: t?.batch_wait ?? null,
      inference: t?.inference ?? null,
      total: t?.total ?? null,
    };
    if (submitted.status !== 200 && submitted.status !== 202) return { status: submitted.status, timing };
    return { status: view.status === 'completed' ? 200 : 500, timing };
  }

  /** `n` jobs in one batch request, not waited for; how many were accepted. */
  async submitBatch(
    tenant: string,
    model: string,
    n: number,
  ): Promise<{ accepted: number; refused: number }> {
    const res = await this.client(tenant).submitBatch(Array.from({ length: n }, () => job(model)));
    const codes =
      (res.json as { jobs?: { status_code: number }[] } | undefined)?.jobs?.map((j) => j.status_code) ?? [];
    const accepted = codes.filter((c) => c === 200 || c === 202).length;
    return { accepted, refused: n - accepted };
  }
}

/** The fields of a job view the bench reads. */
interface TimedView extends PolledView {
  timings_ms?: Partial<Record<'queue' | 'batch_wait' | 'inference' | 'total', number | null>>;
}

function job(model: string): Record<string, unknown> {
  return { model, task: 'generate', input: { prompt: 'fair' }, params: { max_tokens: 1 }, cache: 'bypass' };
}

/** Sends `perBatch` jobs every `everyMs` until `stop` says so; returns the totals. */
async function flood(
  client: BenchClient,
  tenant: string,
  model: string,
  ratePerS: number,
  stop: () => boolean,
): Promise<{ accepted: number; refused: number }> {
  const perBatch = Math.max(1, Math.round(ratePerS / 10));
  const everyMs = (perBatch / ratePerS) * 1000;
  const totals = { accepted: 0, refused: 0 };
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; !stop(); i++) {
    const wait = start + i * everyMs - performance.now();
    if (wait > 1) await sleep(wait);
    inFlight.push(
      client.submitBatch(tenant, model, perBatch).then(
        (r) => {
          totals.accepted += r.accepted;
          totals.refused += r.refused;
        },
        () => {
          totals.refused += perBatch;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  return totals;
}

/** One tenant's sequential jobs for `seconds`. */
async function sequential(
  client: BenchClient,
  tenant: string,
  model: string,
  seconds: number,
): Promise<LatencyFigures> {
  const stopAt = performance.now() + seconds * 1000;
  const done: JobTiming[] = [];
  let rateLimited = 0;
  let failed = 0;
  while (performance.now() < stopAt) {
    const r = await client.runOne(tenant, model);
    if (r.status === 200) done.push(r.timing);
    else if (r.status === 429) rateLimited++;
    else failed++;
  }
  const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 10) / 10);
  // A percentile of one figure over the finished jobs (null figures, e.g. unknown parts, left out).
  const p = (figure: (t: JobTiming) => number | null, q: number): number | null => {
    const known = done
      .map(figure)
      .filter((v): v is number => v !== null)
      .sort((a, b) => a - b);
    return round(percentile(known, q));
  };
  return {
    jobs: done.length,
    p50_ms: p((t) => t.ms, 50),
    p90_ms: p((t) => t.ms, 90),
    rate_limited: rateLimited,
    failed,
    parts_p50_ms: {
      queue: p((t) => t.queue, 50),
      batch_wait: p((t) => t.batch_wait, 50),
      inference: p((t) => t.inference, 50),
      outside: p((t) => (t.total === null ? null : t.ms - t.total), 50),
    },
  };
}

async function latencyPhase(
  client: BenchClient,
  opts: FairnessBenchOptions,
  io: BenchIo,
): Promise<FairnessReport['latency']> {
  const { models, tenants } = FAIRNESS_BENCH;
  const seconds = opts.latencySeconds;
  io.progress(`latency: tenant B alone for ${seconds} s`);
  await client.runOne(tenants.victim, models.flood);
  const alone = await sequential(client, tenants.victim, models.flood, seconds);
  const offered = pacedCapacity() * 10;
  io.progress(`latency: tenant A floods at ${offered} jobs/s while B sends sequential jobs for ${seconds} s`);
  let stop = false;
  const flooding = flood(client, tenants.flooder, models.flood, offered, () => stop);
  // A's backlog builds for a second before B's measured jobs start.
  await sleep(1000);
  const under = await sequential(client, tenants.victim, models.flood, seconds);
  stop = true;
  const f = await flooding;
  const ratio = alone.p50_ms && under.p50_ms ? Number((under.p50_ms / alone.p50_ms).toFixed(3)) : null;
  return {
    seconds,
    b_alone: alone,
    b_under_flood: under,
    ratio_p50: ratio,
    flood: { offered_jobs_per_s: offered, accepted: f.accepted, refused: f.refused },
    target_met: ratio !== null && ratio <= 1.5 && under.rate_limited === 0,
  };
}

async function weightsPhase(
  client: BenchClient,
  cluster: BenchCluster,
  opts: FairnessBenchOptions,
  io: BenchIo,
): Promise<FairnessReport['weights']> {
  const { models, tenants } = FAIRNESS_BENCH;
  const served = async (): Promise<{ heavy: number; light: number }> => {
    const text = await scrapeMetrics(cluster.metricsBase);
    const of = (tenant: string): number =>
      promValue(text, 'hotpath_tenant_jobs_total', { tenant, model: models.weights, outcome: 'completed' });
    return { heavy: of(tenants.heavy), light: of(tenants.light) };
  };
  let stop = false;
  // Each tenant offers the model's whole capacity, so both always have jobs waiting.
  const offered = pacedCapacity();
  io.progress(`weights: tenants of weight 2 and 1 saturate ${models.weights} for ${opts.weightSeconds} s`);
  const floods = [tenants.heavy, tenants.light].map((t) =>
    flood(client, t, models.weights, offered, () => stop),
  );
  await sleep(3000);
  const before = await served();
  await sleep(opts.weightSeconds * 1000);
  const after = await served();
  stop = true;
  await Promise.all(floods);
  const heavy = after.heavy - before.heavy;
  const light = after.light - before.light;
  const ratio = light > 0 ? Number((heavy / light).toFixed(3)) : null;
  return {
    seconds: opts.weightSeconds,
    served: { heavy, light },
    ratio,
    target_met: ratio !== null && Math.abs(ratio - 2) <= 0.2,
  };
}

async function throughputPhase(
  client: BenchClient,
  redisUrl: string,
  opts: FairnessBenchOptions,
  io: BenchIo,
): Promise<FairnessReport['throughput']> {
  const { models, tenants } = FAIRNESS_BENCH;
  const redis = createRedisConnection(redisUrl, 'producer', 'hotpath-bench-fairness');
  try {
    await waitForRedis(redis, 10_000);
    const commands = async (): Promise<number> => {
      const text = await redis.info('commandstats');
      let n = 0;
      for (const m of text.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) n += Number(m[1]);
      return n;
    };
    const runs = {
      on: [] as { jobs: number; s: number; cmds: number }[],
      off: [] as { jobs: number; s: number; cmds: number }[],
    };
    for (const model of [models.on, models.off]) await client.runOne(tenants.solo, model);
    // Alternating rounds: a neighbour's load on the shared machine hits both modes alike.
    for (let round = 0; round < 2; round++) {
      for (const mode of ['off', 'on'] as const) {
        const model = mode === 'on' ? models.on : models.off;
        io.progress(`throughput: fairness ${mode}, round ${round + 1}, ${opts.throughputSeconds} s`);
        const c0 = await commands();
        const t0 = performance.now();
        const stopAt = t0 + opts.throughputSeconds * 1000;
        let jobs = 0;
        // Closed loop, more clients than the model's 2 x 64 slots: a backlog always waits, so
        // with fairness on jobs go through the fair queue, not straight to BullMQ.
        await Promise.all(
          Array.from({ length: 192 }, async () => {
            while (performance.now() < stopAt) {
              const r = await client.runOne(tenants.solo, model);
              if (r.status === 200) jobs++;
            }
          }),
        );
        const s = (performance.now() - t0) / 1000;
        runs[mode].push({ jobs, s, cmds: (await commands()) - c0 });
      }
    }
    const rate = (rs: { jobs: number; s: number }[]): number =>
      Math.round((rs.reduce((n, r) => n + r.jobs, 0) / rs.reduce((n, r) => n + r.s, 0)) * 10) / 10;
    const perJob = (rs: { jobs: number; cmds: number }[]): number | null => {
      const jobs = rs.reduce((n, r) => n + r.jobs, 0);
      return jobs > 0 ? Math.round((rs.reduce((n, r) => n + r.cmds, 0) / jobs) * 10) / 10 : null;
    };
    const on = rate(runs.on);
    const off = rate(runs.off);
    const ratio = off > 0 ? Number((on / off).toFixed(3)) : null;
    return {
      seconds_per_run: opts.throughputSeconds,
      on_jobs_per_s: on,
      off_jobs_per_s: off,
      on_vs_off: ratio,
      redis_commands_per_job: { on: perJob(runs.on), off: perJob(runs.off) },
      target_met: ratio !== null && ratio >= 0.9,
    };
  } finally {
    redis.disconnect();
  }
}

/** The report as printed lines. */
export function fairnessLines(r: FairnessReport): string[] {
  const mark = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const parts = (f: LatencyFigures): string => {
    const p = f.parts_p50_ms;
    return `queue ${p.queue}, scheduler ${p.batch_wait}, inference ${p.inference}, outside the worker ${p.outside}`;
  };
  const lines = [
    `capacity of the paced sim model: ${r.capacity_jobs_per_s} jobs/s; load average ${r.load_average.join(' ')}`,
  ];
  const l = r.latency;
  if (l)
    lines.push(
      `latency (${l.seconds} s each): B alone p50 ${l.b_alone.p50_ms} ms (p90 ${l.b_alone.p90_ms}, ${l.b_alone.jobs} jobs); ` +
        `B under A's flood p50 ${l.b_under_flood.p50_ms} ms (p90 ${l.b_under_flood.p90_ms}, ${l.b_under_flood.jobs} jobs, ` +
        `${l.b_under_flood.rate_limited} x 429); ratio ${l.ratio_p50} (target <= 1.5, no 429: ${mark(l.target_met)})`,
      `  B's medians (ms), alone: ${parts(l.b_alone)}`,
      `  B's medians (ms), under the flood: ${parts(l.b_under_flood)}`,
      `  flood: A offered ${l.flood.offered_jobs_per_s} jobs/s, ${l.flood.accepted} accepted, ${l.flood.refused} refused`,
    );
  const w = r.weights;
  if (w)
    lines.push(
      `weights 2:1 over ${w.seconds} s: served ${w.served.heavy} vs ${w.served.light}, ratio ${w.ratio} (target 2 +-10%: ${mark(w.target_met)})`,
    );
  const t = r.throughput;
  if (t)
    lines.push(
      `throughput, one tenant at saturation: fairness on ${t.on_jobs_per_s} jobs/s, off ${t.off_jobs_per_s} jobs/s, ` +
        `on/off ${t.on_vs_off} (target >= 0.9: ${mark(t.target_met)})`,
      `  Redis commands per job (INFO commandstats, scripts' inner calls included): on ${t.redis_commands_per_job.on}, off ${t.redis_commands_per_job.off}`,
    );
  return lines;
}
