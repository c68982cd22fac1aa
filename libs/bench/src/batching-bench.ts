import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { forgeModel } from '@hotpath/model-runtime';
import { jobSender, scrapeBatchSize } from './bench-client';
import { withBenchRun, type BenchCluster } from './bench-cluster';
import type { BatchingBenchOptions } from './bench-options';
import {
  benchClusterConfig,
  modelName,
  ratesFrom,
  scenarioPlans,
  type BatchingMode,
  type BenchModels,
  type Scenario,
} from './bench-plan';
import { saturation, toRow, type BenchRow } from './bench-results';
import { closedLoop, openLoop, type LoadResult } from './load-generator';

/** Where the bench reports progress and problems. */
export interface BenchIo {
  /** Progress lines (shown on a TTY only). */
  progress(line: string): void;
  warn(line: string): void;
}

/** Forged model folders the scenarios need (deterministic weights, seed 1), created when missing. */
function ensureModels(opts: BatchingBenchOptions, io: BenchIo): { smallDir: string; embedDir: string } {
  const smallDir = join(opts.dataDir, 'models', 'small');
  const embedDir = join(opts.dataDir, 'models', 'tiny-embed');
  const wanted: { on: boolean; dir: string; arch: 'llama' | 'bert'; preset: string }[] = [
    { on: opts.scenarios.includes('generate'), dir: smallDir, arch: 'llama', preset: 'small' },
    { on: opts.scenarios.includes('embed'), dir: embedDir, arch: 'bert', preset: 'tiny-embed' },
  ];
  for (const w of wanted) {
    if (!w.on || existsSync(join(w.dir, 'model.onnx'))) continue;
    io.progress(`forging ${w.preset} into ${w.dir}`);
    forgeModel({ arch: w.arch, preset: w.preset, seed: 1, out: w.dir });
  }
  return { smallDir, embedDir };
}

/**
 * Runs `hotpath bench batching`: for each mode (off first), writes the cluster config, starts the
 * API and a worker on it, warms each scenario's model up, then drives it level by level and reads
 * the worker's batch-size histogram around each level. Open-loop rates derive from the first mode's
 * saturation throughput, so every mode sees the same arrival rates.
 */
export async function runBatchingBench(
  opts: BatchingBenchOptions,
  env: NodeJS.ProcessEnv,
  io: BenchIo,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dirs = ensureModels(opts, io);
  await withBenchRun('hotpath-bench-', opts, env, io, async (run) => {
    const models: BenchModels = { suffix: run.redis.private ? '' : `b${randomUUID().slice(0, 6)}`, ...dirs };
    const plans = scenarioPlans(opts.quick);
    const rates = new Map<Scenario, number[]>();
    for (const mode of opts.modes) {
      io.progress(`starting the cluster with batching ${mode}`);
      const cluster = await run.startCluster(
        `cluster-${mode}`,
        benchClusterConfig(mode, opts.scenarios, models),
      );
      try {
        for (const scenario of opts.scenarios) {
          await runScenario(scenario, mode, cluster, models.suffix, rows, rates, plans[scenario], opts, io);
        }
      } finally {
        await cluster.stop();
      }
    }
  });
  return rows;
}

async function runScenario(
  scenario: Scenario,
  mode: BatchingMode,
  cluster: BenchCluster,
  suffix: string,
  rows: BenchRow[],
  rates: Map<Scenario, number[]>,
  plan: ReturnType<typeof scenarioPlans>[Scenario],
  opts: BatchingBenchOptions,
  io: BenchIo,
): Promise<void> {
  const model = modelName(scenario, suffix);
  const send = jobSender(cluster.apiBase, { model, task: plan.task, maxTokens: plan.maxTokens });
  const durationMs = opts.durationMs ?? plan.durationMs;
  // Warm-up: first-call costs (session init, JIT, connections) stay out of the numbers.
  const warm = await closedLoop({ concurrency: 2, durationMs: 0, maxRequests: 2, send });
  const bad = warm.samples.find((s) => !s.ok);
  if (bad) throw new Error(`${scenario} (${mode}): warm-up request failed: ${bad.error ?? 'unknown'}`);

  const level = async (
    load: { concurrency: number } | { rate: number },
    drive: () => Promise<LoadResult>,
  ): Promise<void> => {
    const label = 'concurrency' in load ? `concurrency ${load.concurrency}` : `rate ${load.rate}/s`;
    io.progress(`  ${scenario} batching ${mode}: ${label} for ${durationMs} ms`);
    const before = await scrapeBatchSize(cluster.metricsBase, model);
    const result = await drive();
    const after = await scrapeBatchSize(cluster.metricsBase, model);
    const failure = cluster.failure();
    if (failure) throw new Error(failure);
    const row = toRow(result, {
      scenario,
      mode,
      load,
      generates: plan.task === 'generate',
      batch: { sum: after.sum - before.sum, count: after.count - before.count },
    });
    rows.push(row);
    const firstError = result.samples.find((s) => !s.ok)?.error;
    if (firstError)
      io.warn(`${scenario} ${mode} ${label}: ${row.errors} failed requests (first: ${firstError})`);
    io.progress(
      `    ${row.throughput} jobs/s, p50 ${row.p50_ms ?? '-'} ms, p99 ${row.p99_ms ?? '-'} ms, batch ${row.mean_batch_size ?? '-'}`,
    );
  };

  for (const concurrency of opts.levels ?? plan.concurrency) {
    await level({ concurrency }, () => closedLoop({ concurrency, durationMs, send }));
  }
  let scenarioRates = rates.get(scenario);
  if (!scenarioRates) {
    const sat = saturation(rows, scenario, mode)?.throughput ?? 0;
    scenarioRates = opts.rates ?? (sat > 0 ? ratesFrom(sat, plan.rateFactors) : []);
    rates.set(scenario, scenarioRates);
  }
  for (const rate of scenarioRates) {
    await level({ rate }, () => openLoop({ rate, durationMs, send }));
  }
}
