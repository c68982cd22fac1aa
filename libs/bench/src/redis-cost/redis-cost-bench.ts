import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterConfigInput } from '@hotpath/contracts';
import { HotpathClient, type PolledView } from '@hotpath/job-client';
import {
  createRedisConnection,
  isCluster,
  parseRedisTarget,
  waitForRedis,
  type RedisClient,
  type RedisTarget,
} from '@hotpath/queue';
import { LocalRedisCluster } from '@hotpath/redis-local';
import { endBenchRun, startBenchCluster, startBenchRedis, type BenchRedis } from '../bench-cluster';
import { percentile } from '../stats';
import { submitAndStream, submitAndWait, submitStreaming } from '../cache/job-http';
import { commandUsec, diffCounts, parseCommandStats, totalCount, type CommandCounts } from './command-stats';
import type { RedisCostOptions } from './redis-cost-options';

/** Where the bench reports progress and problems. */
export interface RedisCostIo {
  progress(line: string): void;
  warn(line: string): void;
}

/** Commands per job of one scenario. */
export interface ScenarioCost {
  name: 'plain' | 'streamed' | 'streamed-post' | 'hit';
  jobs: number;
  seconds: number;
  /** All commands counted during the scenario, per job. */
  rawPerJob: number;
  /** Minus the idle cluster's commands over the same time: what the jobs themselves cost. */
  commandsPerJob: number;
  /** Redis CPU time in commands per job (idle subtracted), microseconds. */
  usecPerJob: number;
  /** Every command, per job, most frequent first (idle not subtracted). */
  top: Record<string, number>;
}

/** What `hotpath bench redis-cost` reports. */
export interface RedisCostReport {
  redis: string;
  mode: 'standalone' | 'cluster';
  waitReplicas: number;
  maxTokens: number;
  concurrency: number;
  idleCommandsPerS: number;
  scenarios: ScenarioCost[];
  /** Client-side time from sending `POST /v1/jobs` (no wait) to its 202, ms. */
  accept: { samples: number; p50Ms: number; p99Ms: number; meanMs: number };
  loadAverage: number[];
}

function clusterConfig(name: string, maxTokens: number): ClusterConfigInput {
  return {
    models: [
      {
        name,
        backend: 'sim',
        tasks: ['generate'],
        shards: 1,
        concurrency: 64,
        max_waiting: 1_000_000,
        default_max_tokens: maxTokens,
        cache: { enabled: true, scope: 'global', max_entries: 100_000 },
      },
    ],
    api: { max_wait_s: 120 },
  };
}

/** INFO commandstats of the masters (every command a cluster runs is counted once, on its master). */
async function readStats(conn: RedisClient): Promise<{ counts: CommandCounts; usec: number }> {
  const nodes = isCluster(conn) ? conn.nodes('master') : [conn];
  const infos = await Promise.all(nodes.map((n) => n.info('commandstats')));
  const counts: CommandCounts = new Map();
  let usec = 0;
  for (const info of infos) {
    parseCommandStats(info, counts);
    usec += commandUsec(info);
  }
  return { counts, usec };
}

/** Runs `work(i)` for i < n with at most `concurrency` at once. */
async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

/**
 * Runs `hotpath bench redis-cost`: a private Redis (or local Redis Cluster), the API and a worker
 * serving a sim model, then each scenario's jobs with Redis command counts read before and after.
 */
export async function runRedisCost(
  opts: RedisCostOptions,
  env: NodeJS.ProcessEnv,
  io: RedisCostIo,
): Promise<RedisCostReport> {
  const workDir = mkdtempSync(join(tmpdir(), 'hotpath-bench-redis-cost-'));
  let redis: BenchRedis | undefined;
  let ok = false;
  try {
    let target: RedisTarget;
    const childEnv: NodeJS.ProcessEnv = { ...env };
    if (opts.redisCluster) {
      io.progress('starting a local Redis Cluster (3 masters, 3 replicas)');
      const local = await LocalRedisCluster.start({ dir: join(workDir, 'redis-cluster') });
      redis = { url: local.url, private: true, description: 'local Redis Cluster', stop: () => local.stop() };
      target = parseRedisTarget({ url: local.url, mode: 'cluster' });
      Object.assign(childEnv, {
        REDIS_MODE: 'cluster',
        HOTPATH_REDIS_WAIT_REPLICAS: String(opts.waitReplicas),
      });
    } else {
      redis = await startBenchRedis(workDir, opts.redisUrl, env['REDIS_URL']);
      target = parseRedisTarget({ url: redis.url });
      for (const k of ['REDIS_MODE', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'HOTPATH_REDIS_WAIT_REPLICAS'])
        delete childEnv[k];
    }
    io.progress(`Redis: ${redis.description}`);
    const model = `sim-cost-${randomUUID().slice(0, 6)}`;
    const configPath = join(workDir, 'cluster.json');
    writeFileSync(configPath, JSON.stringify(clusterConfig(model, opts.maxTokens), null, 2));
    const cluster = await startBenchCluster({
      configPath,
      redisUrl: redis.url,
      dataDir: join(workDir, 'data'),
      logDir: workDir,
      baseEnv: childEnv,
      readyTimeoutMs: 60_000,
      ...(opts.appsFrom ? { appsFrom: opts.appsFrom } : {}),
    });
    const conn = createRedisConnection(target, 'worker', 'bench-redis-cost');
    try {
      await waitForRedis(conn, 10_000);
      const report = await measure(cluster.apiBase, model, conn, opts, io, redis.description);
      const failure = cluster.failure();
      if (failure) throw new Error(failure);
      ok = true;
      return report;
    } finally {
      conn.disconnect();
      await cluster.stop();
    }
  } finally {
    await endBenchRun(redis, workDir, ok, io);
  }
}

async function measure(
  apiBase: string,
  model: string,
  conn: RedisClient,
  opts: RedisCostOptions,
  io: RedisCostIo,
  description: string,
): Promise<RedisCostReport> {
  const run = randomUUID().slice(0, 8);
  const gen = (prompt: string, cache: 'bypass' | 'default' = 'bypass') => ({
    model,
    task: 'generate',
    input: { prompt },
    params: { max_tokens: opts.maxTokens },
    cache,
  });
  // Warm-up: connections, script loading and JIT stay out of the numbers.
  await pool(8, 4, (i) => submitAndWait(apiBase, gen(`warm ${run} ${i}`)).then(() => undefined));

  io.progress('idle cluster: 3 s');
  const idle0 = await readStats(conn);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 3000));
  const idle1 = await readStats(conn);
  const idleS = (performance.now() - t0) / 1000;
  const idleRate = totalCount(diffCounts(idle0.counts, idle1.counts)) / idleS;
  const idleUsecRate = (idle1.usec - idle0.usec) / idleS;

  const scenario = async (
    name: ScenarioCost['name'],
    work: (i: number) => Promise<unknown>,
  ): Promise<ScenarioCost> => {
    io.progress(`${name}: ${opts.jobs} jobs, ${opts.concurrency} at a time`);
    const before = await readStats(conn);
    const start = performance.now();
    await pool(opts.jobs, opts.concurrency, (i) => work(i).then(() => undefined));
    const seconds = (performance.now() - start) / 1000;
    const after = await readStats(conn);
    const d = diffCounts(before.counts, after.counts);
    // The two INFO calls of each reading are the bench's own.
    const raw = totalCount(d) - (isCluster(conn) ? conn.nodes('master').length : 1);
    const top = [...d.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, round(v / opts.jobs)] as const);
    return {
      name,
      jobs: opts.jobs,
      seconds: round(seconds),
      rawPerJob: round(raw / opts.jobs),
      commandsPerJob: round(Math.max(0, raw - idleRate * seconds) / opts.jobs),
      usecPerJob: round(Math.max(0, after.usec - before.usec - idleUsecRate * seconds) / opts.jobs),
      top: Object.fromEntries(top),
    };
  };

  const scenarios: ScenarioCost[] = [];
  scenarios.push(await scenario('plain', (i) => submitAndWait(apiBase, gen(`plain ${run} ${i}`))));
  // `stream: true` tells the cluster a follower will come (older versions refuse the field).
  const client = new HotpathClient(apiBase, undefined, 30_000);
  const streamHint = (await client.submit({ ...gen(`hint ${run}`), stream: true })).status === 202;
  scenarios.push(
    await scenario('streamed', (i) =>
      submitAndStream(apiBase, { ...gen(`stream ${run} ${i}`), ...(streamHint ? { stream: true } : {}) }),
    ),
  );
  scenarios.push(
    await scenario('streamed-post', (i) =>
      submitStreaming(apiBase, {
        ...gen(`post-stream ${run} ${i}`),
        ...(streamHint ? { stream: true } : {}),
      }),
    ),
  );
  const cached = gen(`cached ${run}`, 'default');
  await submitAndWait(apiBase, cached);
  scenarios.push(await scenario('hit', () => submitAndWait(apiBase, cached)));

  io.progress('time to 202');
  const acceptMs: number[] = [];
  const accepted: PolledView[] = [];
  for (let i = 0; i < Math.min(opts.jobs, 100); i++) {
    const t = performance.now();
    const res = await client.submit(gen(`accept ${run} ${i}`));
    acceptMs.push(performance.now() - t);
    if (res.status !== 202) throw new Error(`POST /v1/jobs answered ${res.status}`);
    accepted.push((res.json ?? {}) as PolledView);
  }
  for (const v of accepted) await client.untilFinished(v);
  acceptMs.sort((a, b) => a - b);
  return {
    redis: description,
    mode: isCluster(conn) ? 'cluster' : 'standalone',
    waitReplicas: opts.waitReplicas,
    maxTokens: opts.maxTokens,
    concurrency: opts.concurrency,
    idleCommandsPerS: round(idleRate),
    scenarios,
    accept: {
      samples: acceptMs.length,
      p50Ms: round(percentile(acceptMs, 50) ?? 0),
      p99Ms: round(percentile(acceptMs, 99) ?? 0),
      meanMs: round(acceptMs.reduce((a, b) => a + b, 0) / acceptMs.length),
    },
    loadAverage: loadavg().map(round),
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The report as a few lines of text. */
export function formatRedisCost(r: RedisCostReport): string {
  const lines = [
    `Redis commands per job (${r.redis}, ${r.mode}, wait replicas ${r.waitReplicas}, ${r.maxTokens} tokens, ${r.concurrency} in flight)`,
    `  idle cluster: ${r.idleCommandsPerS} commands/s (subtracted)`,
  ];
  for (const s of r.scenarios) {
    lines.push(
      `  ${s.name.padEnd(9)} ${String(s.commandsPerJob).padStart(7)} commands/job  (raw ${s.rawPerJob}, ${s.usecPerJob} us Redis CPU/job, ${s.jobs} jobs in ${s.seconds} s)`,
    );
    lines.push(
      `            ${Object.entries(s.top)
        .slice(0, 12)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  lines.push(
    `  time to 202: p50 ${r.accept.p50Ms} ms, p99 ${r.accept.p99Ms} ms, mean ${r.accept.meanMs} ms (${r.accept.samples} sequential POSTs)`,
  );
  lines.push(`  load average: ${r.loadAverage.join(' ')}`);
  return lines.join('\n');
}
