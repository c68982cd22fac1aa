import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterConfigInput } from '@hotpath/contracts';
import { jobSender } from '../bench-client';
import { endBenchRun, startBenchCluster, startBenchRedis } from '../bench-cluster';
import { closedLoop, type LoadResult } from '../load-generator';
import { promValue } from '../prom-text';
import { startOtlpSink, type OtlpSink } from './otlp-sink';
import type { TracingBenchOptions } from './tracing-bench-options';
import { buildTracingReport, tracingRun, type TracingReport, type TracingRun } from './tracing-report';

/** Where the bench reports progress and problems. */
export interface TracingBenchIo {
  progress(line: string): void;
  warn(line: string): void;
}

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
        batching: { enabled: true, max_batch_size: 64, max_queue_delay_ms: 2 },
        cache: { enabled: false },
        sim: { base_ms: 0, per_item_ms: 0 },
      },
    ],
    api: { max_wait_s: 120 },
  };
}

/** The children's environment of one mode: no inherited `OTEL_*`, plus the sink when tracing is on. */
function modeEnv(base: NodeJS.ProcessEnv, mode: 'off' | 'on', sink: OtlpSink): NodeJS.ProcessEnv {
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

/**
 * Runs `hotpath bench tracing`: `rounds` × (off, on), each on a freshly started cluster with the
 * same config, a short warm-up, then a closed loop of `concurrency` clients for `durationMs`.
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
    const model = redis.private ? 'sim' : `sim-t${randomUUID().slice(0, 6)}`;
    const configPath = join(workDir, 'cluster.json');
    writeFileSync(configPath, JSON.stringify(clusterConfig(model), null, 2));
    const runs: TracingRun[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      for (const mode of ['off', 'on'] as const) {
        io.progress(`round ${round}: tracing ${mode}, starting the cluster`);
        const lifetime = sink.stats();
        let result: LoadResult | undefined;
        let cpuSeconds = 0;
        const cluster = await startBenchCluster({
          configPath,
          redisUrl: redis.url,
          dataDir: opts.dataDir,
          logDir: workDir,
          baseEnv: modeEnv(env, mode, sink),
          readyTimeoutMs: 60_000,
        });
        try {
          const sender = jobSender(cluster.apiBase, { model, task: 'generate', maxTokens: 16 });
          const warm = await closedLoop({ concurrency: opts.concurrency, durationMs: 1000, send: sender });
          const bad = warm.samples.find((s) => !s.ok);
          if (bad) throw new Error(`warm-up request failed (tracing ${mode}): ${bad.error ?? 'unknown'}`);
          const cpu0 = await clusterCpuSeconds(cluster.apiBase, cluster.metricsBase);
          result = await closedLoop({
            concurrency: opts.concurrency,
            durationMs: opts.durationMs,
            send: sender,
          });
          cpuSeconds = (await clusterCpuSeconds(cluster.apiBase, cluster.metricsBase)) - cpu0;
          const failure = cluster.failure();
          if (failure) throw new Error(failure);
        } finally {
          // Stopping flushes the span processors, so the receiver has every span of this cluster.
          await cluster.stop();
        }
        const after = sink.stats();
        const row = tracingRun(mode, round, result, {
          spans: after.spans - lifetime.spans,
          requests: after.requests - lifetime.requests,
          cpuSeconds,
        });
        runs.push(row);
        io.progress(
          `  ${row.throughput} jobs/s, p50 ${row.p50_ms ?? '-'} ms, ${row.spans_received} spans exported`,
        );
        if (row.errors > 0) io.warn(`tracing ${mode} round ${round}: ${row.errors} failed requests`);
      }
    }
    ok = true;
    return buildTracingReport(runs, opts.concurrency, opts.durationMs);
  } finally {
    await sink.close();
    await endBenchRun(redis, workDir, ok, io);
  }
}

/** CPU seconds the API and the worker have used so far (`process_cpu_seconds_total` of both). */
async function clusterCpuSeconds(apiBase: string, metricsBase: string): Promise<number> {
  let total = 0;
  for (const base of [apiBase, metricsBase]) {
    const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
    total += promValue(await res.text(), 'process_cpu_seconds_total');
  }
  return total;
}
