import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterConfigInput } from '@hotpath/contracts';
import { jobSender } from '../bench-client';
import { endBenchRun, startBenchCluster, startBenchRedis, type BenchCluster } from '../bench-cluster';
import { benchBatching } from '../bench-plan';
import { closedLoop, type LoadResult, type Sender } from '../load-generator';
import { promValue, scrapeMetrics } from '../prom-text';
import { startOtlpSink, type OtlpSink } from './otlp-sink';
import type { TracingBenchOptions } from './tracing-bench-options';
import { buildTracingReport, tracingRun, type TracingReport, type TracingRun } from './tracing-report';

/** Where the bench reports progress and problems. */
export interface TracingBenchIo {
  progress(line: string): void;
  warn(line: string): void;
}

type Mode = 'off' | 'on';
const MODES: readonly Mode[] = ['off', 'on'];

/** The one config both modes run: sim at zero latency, batching on, no result cache. */
function clusterConfig(name: string): ClusterConfigInput {
  return {
    models: [
      {
        name,
        backend: 'sim',
        tasks: ['generate'],
        shards: 1,
        replicas: 1,
        concurrency: 256,
        max_waiting: 1_000_000,
        default_max_tokens: 16,
        batching: benchBatching(true, 64, 2),
        cache: { enabled: false },
        sim: { base_ms: 0, per_item_ms: 0 },
      },
    ],
    api: { max_wait_s: 120 },
  };
}

/** The children's environment of one mode: no inherited `OTEL_*`, plus the sink when tracing is on. */
function modeEnv(base: NodeJS.ProcessEnv, mode: Mode, sink: OtlpSink): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('OTEL_')) env[k] = v;
  if (mode === 'on') {
    Object.assign(env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_SAMPLER: 'always_on',
    });
  }
  return env;
}

/** One mode's cluster in a round, and what its measured windows have served so far. */
interface ModeCluster {
  cluster: BenchCluster;
  send: Sender;
  served: LoadResult;
  cpuSeconds: number;
}

/**
 * Runs `hotpath bench tracing`. Each round starts two clusters on one Redis, one with tracing off
 * and one with tracing on (each with its own model, so their queues are apart), warms both up,
 * then loads them in turn in windows of `windowMs`, off-on then on-off, `pairs` times. Only the
 * loaded cluster works; the other idles. Compared to one long run per mode on clusters started
 * minutes apart, adjacent windows see the same machine, so a shared machine's drift (which moves
 * throughput by ±10–15 % from one minute to the next) mostly cancels out.
 */
export async function runTracingBench(
  opts: TracingBenchOptions,
  env: NodeJS.ProcessEnv,
  io: TracingBenchIo,
): Promise<TracingReport> {
  const workDir = mkdtempSync(join(tmpdir(), 'hotpath-bench-tracing-'));
  mkdirSync(opts.dataDir, { recursive: true });
  const sink = await startOtlpSink();
  let redis: Awaited<ReturnType<typeof startBenchRedis>> | undefined;
  let ok = false;
  try {
    redis = await startBenchRedis(workDir, opts.redisUrl, env['REDIS_URL']);
    io.progress(`Redis: ${redis.description} (${redis.url}); OTLP receiver at ${sink.endpoint}`);
    const base = redis.private ? 'sim' : `sim-t${randomUUID().slice(0, 6)}`;
    const runs: TracingRun[] = [];
    const pairRatios: number[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      io.progress(`round ${round}: starting a cluster with tracing off and one with tracing on`);
      const spansBefore = sink.stats();
      const clusters = await startModeClusters(opts, env, sink, redis.url, workDir, base);
      try {
        for (const mode of MODES) {
          const warm = await closedLoop({
            concurrency: opts.concurrency,
            durationMs: opts.warmupMs,
            send: clusters[mode].send,
          });
          const bad = warm.samples.find((s) => !s.ok);
          if (bad) throw new Error(`warm-up request failed (tracing ${mode}): ${bad.error ?? 'unknown'}`);
        }
        for (let pair = 0; pair < opts.pairs; pair++) {
          const order: readonly Mode[] = pair % 2 === 0 ? MODES : ['on', 'off'];
          const jobsPerSecond: Record<Mode, number> = { off: 0, on: 0 };
          for (const mode of order) jobsPerSecond[mode] = await measureWindow(clusters[mode], opts);
          if (jobsPerSecond.off > 0) pairRatios.push(jobsPerSecond.on / jobsPerSecond.off);
          io.progress(
            `  window pair ${pair + 1}: off ${Math.round(jobsPerSecond.off)}, on ${Math.round(jobsPerSecond.on)} jobs/s`,
          );
        }
        for (const mode of MODES) {
          const failure = clusters[mode].cluster.failure();
          if (failure) throw new Error(`tracing ${mode}: ${failure}`);
        }
      } finally {
        // Stopping flushes the span processors, so the receiver has every span of the round.
        await Promise.all(MODES.map((m) => clusters[m].cluster.stop()));
      }
      const after = sink.stats();
      for (const mode of MODES) {
        const traced = mode === 'on';
        const row = tracingRun(mode, round, clusters[mode].served, {
          spans: traced ? after.spans - spansBefore.spans : 0,
          requests: traced ? after.requests - spansBefore.requests : 0,
          cpuSeconds: clusters[mode].cpuSeconds,
        });
        runs.push(row);
        io.progress(`  tracing ${mode}: ${row.throughput} jobs/s, p50 ${row.p50_ms ?? '-'} ms`);
        if (row.errors > 0) io.warn(`tracing ${mode} round ${round}: ${row.errors} failed requests`);
      }
    }
    ok = true;
    return buildTracingReport(runs, pairRatios, opts);
  } finally {
    await sink.close();
    await endBenchRun(redis, workDir, ok, io);
  }
}

/** Starts both modes' clusters side by side, each serving its own model (`<base>-off`, `<base>-on`). */
async function startModeClusters(
  opts: TracingBenchOptions,
  env: NodeJS.ProcessEnv,
  sink: OtlpSink,
  redisUrl: string,
  workDir: string,
  base: string,
): Promise<Record<Mode, ModeCluster>> {
  const started = await Promise.allSettled(
    MODES.map(async (mode): Promise<ModeCluster> => {
      const model = `${base}-${mode}`;
      const configPath = join(workDir, `cluster-${mode}.json`);
      writeFileSync(configPath, JSON.stringify(clusterConfig(model), null, 2));
      const logDir = join(workDir, mode);
      mkdirSync(logDir, { recursive: true });
      const cluster = await startBenchCluster({
        configPath,
        redisUrl,
        dataDir: opts.dataDir,
        logDir,
        baseEnv: modeEnv(env, mode, sink),
        readyTimeoutMs: 60_000,
      });
      const send = jobSender(cluster.apiBase, { model, task: 'generate', maxTokens: 16 });
      return { cluster, send, served: { samples: [], elapsedMs: 0 }, cpuSeconds: 0 };
    }),
  );
  const [off, on] = started;
  if (off?.status === 'fulfilled' && on?.status === 'fulfilled') return { off: off.value, on: on.value };
  await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.cluster.stop() : undefined)));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  throw failed?.reason instanceof Error ? failed.reason : new Error(String(failed?.reason));
}

/** Loads one cluster for one window; adds what it served to its totals and returns its jobs/s. */
async function measureWindow(c: ModeCluster, opts: TracingBenchOptions): Promise<number> {
  const cpu0 = await clusterCpuSeconds(c.cluster);
  const result = await closedLoop({ concurrency: opts.concurrency, durationMs: opts.windowMs, send: c.send });
  c.cpuSeconds += (await clusterCpuSeconds(c.cluster)) - cpu0;
  for (const sample of result.samples) c.served.samples.push(sample);
  c.served.elapsedMs += result.elapsedMs;
  const ok = result.samples.filter((s) => s.ok).length;
  return result.elapsedMs > 0 ? (ok * 1000) / result.elapsedMs : 0;
}

/** CPU seconds the API and the worker have used so far (`process_cpu_seconds_total` of both). */
async function clusterCpuSeconds(cluster: BenchCluster): Promise<number> {
  let total = 0;
  for (const base of [cluster.apiBase, cluster.metricsBase]) {
    total += promValue(await scrapeMetrics(base), 'process_cpu_seconds_total');
  }
  return total;
}
