import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import {
  forgeModel,
  loadModelFolder,
  measureRoofline,
  rooflineLimits,
  type LlamaConfig,
} from '@hotpath/model-runtime';
import { endBenchRun, startBenchRedis, type BenchRedis } from '../bench-cluster';
import { closedLoop, openLoop, type LoadResult, type Sender } from '../load-generator';
import type { BenchTarget, LevelLoad } from './bench-target';
import { startClusterTarget } from './cluster-target';
import type { CompareBenchOptions } from './compare-options';
import {
  comparePlan,
  isSaturated,
  MAX_BATCH_SIZE,
  openRate,
  type CompareModels,
  type SystemName,
  type Workload,
  type WorkloadPlan,
} from './compare-plan';
import {
  COMPARE_SCHEMA,
  summarizeCompare,
  toCompareRow,
  type CompareDocument,
  type CompareRoofline,
  type CompareRow,
} from './compare-results';
import { loadNodeLlamaCpp, startLlamaCppTarget, type LlamaCppTarget } from './llama-cpp-target';
import { startOrtDirect } from './ort-direct-target';
import { embedTexts, promptSet, type BenchPrompt } from './prompt-set';
import { compareGreedy, hotpathGreedy, type TokenAgreement } from './token-agreement';
import { startTransformersTarget, transformersAvailable } from './transformers-target';

/** Where the bench reports progress and problems. */
export interface CompareIo {
  /** Progress lines (shown on a TTY only). */
  progress(line: string): void;
  warn(line: string): void;
}

const PROMPT_SEED = 1;
/** Fewest requests an open-loop level sends: low rates get longer levels instead of 1–2 samples. */
const MIN_OPEN_REQUESTS = { quick: 4, full: 20 };
/** A count-bound concurrency-1 level still ends after this long (a stuck system must not hang the run). */
const SINGLE_LEVEL_LIMIT_MS = 600_000;
/** New tokens per prompt the llama.cpp token-agreement check compares. */
const AGREEMENT_TOKENS = 32;

/**
 * The host's roofline and the generate model's limits on it. The attention FLOPs are counted at
 * the prompt set's mean context: prompt tokens plus half the new tokens.
 */
async function measureCompareRoofline(
  generateDir: string,
  prompts: readonly BenchPrompt[],
): Promise<CompareRoofline> {
  const model = loadModelFolder(generateDir);
  const context = Math.round(
    prompts.reduce((a, p) => a + model.tokenizer.encode(p.prompt).length + p.maxTokens / 2, 0) /
      Math.max(1, prompts.length),
  );
  const r = await measureRoofline();
  const limits = rooflineLimits(r, model.config as LlamaConfig, context);
  return {
    gemm: r.gemm,
    peak_gflops: r.peak_gflops,
    memory_bandwidth_gb_s: r.memory_bandwidth_gb_s,
    gemv_bandwidth_gb_s: r.gemv_bandwidth_gb_s,
    flops_per_token: limits.flops_per_token,
    mean_context: context,
    compute_tokens_per_s: limits.compute_tokens_per_s,
    memory_tokens_per_s: limits.memory_tokens_per_s,
    seconds: r.seconds,
  };
}

/** Model folders of the run, forged when a preset is missing. */
function resolveModels(opts: CompareBenchOptions, io: CompareIo): { generateDir: string; embedDir: string } {
  const models = join(opts.dataDir, 'models');
  let generateDir: string;
  if ('preset' in opts.model) {
    generateDir = join(models, opts.model.preset);
    if (!existsSync(join(generateDir, 'model.onnx'))) {
      io.progress(`forging ${opts.model.preset} into ${generateDir}`);
      forgeModel({ arch: 'llama', preset: opts.model.preset, seed: 1, out: generateDir });
    }
  } else {
    generateDir = opts.model.dir;
    if (!existsSync(join(generateDir, 'model.onnx')))
      throw new Error(
        `--model ${generateDir}: no model.onnx there (a model folder, see docs/models.md#the-model-folder)`,
      );
  }
  const embedDir = join(models, 'tiny-embed');
  if (opts.workloads.includes('embed') && !existsSync(join(embedDir, 'model.onnx'))) {
    io.progress(`forging tiny-embed into ${embedDir}`);
    forgeModel({ arch: 'bert', preset: 'tiny-embed', seed: 1, out: embedDir });
  }
  return { generateDir, embedDir };
}

function digestOf(dir: string): string | null {
  try {
    const j = JSON.parse(readFileSync(join(dir, 'hotpath.json'), 'utf8')) as { digest?: unknown };
    return typeof j.digest === 'string' ? j.digest : null;
  } catch {
    return null;
  }
}

/**
 * Runs `hotpath bench compare`: starts every system, then per workload warms each up and runs the
 * closed-loop levels, then open-loop rates from half of each system's own closed-loop saturation
 * upwards until it saturates. Levels interleave across systems and only one system has load at a
 * time. A system that fails to start or warm up is recorded in `notes` and the run goes on.
 */
export async function runCompareBench(
  opts: CompareBenchOptions,
  env: NodeJS.ProcessEnv,
  io: CompareIo,
): Promise<{ doc: CompareDocument; failed: SystemName[] }> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  mkdirSync(opts.dataDir, { recursive: true });
  const dirs = resolveModels(opts, io);
  const workDir = mkdtempSync(join(tmpdir(), 'hotpath-compare-'));
  const plan = comparePlan(opts.quick);
  const prompts = promptSet(PROMPT_SEED, opts.promptCount, opts.tokens);
  const texts = embedTexts(PROMPT_SEED, 64);
  const withEmbed = opts.workloads.includes('embed');
  const rows: CompareRow[] = [];
  const notes: string[] = [];
  const failed: SystemName[] = [];
  let redis: BenchRedis | undefined;
  let llamaCpp: LlamaCppTarget | undefined;
  let agreement: TokenAgreement | null = null;
  let roofline: CompareRoofline | null = null;
  if (opts.roofline) {
    io.progress('roofline: measuring GEMM FLOP/s and memory bandwidth');
    try {
      roofline = await measureCompareRoofline(dirs.generateDir, prompts);
      io.progress(
        `  peak ${roofline.peak_gflops} GFLOP/s, copy ${roofline.memory_bandwidth_gb_s} GB/s → compute limit ${roofline.compute_tokens_per_s} tokens/s`,
      );
    } catch (err) {
      notes.push(`roofline: not measured: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const generateLevels = opts.levels ?? plan.generate.concurrency;

  const start = async (system: SystemName): Promise<BenchTarget | undefined> => {
    const embedDir = withEmbed ? dirs.embedDir : undefined;
    if (system === 'ort-direct') {
      return startOrtDirect({
        ...dirs,
        embedDir,
        prompts,
        texts,
        maxBatchSize: MAX_BATCH_SIZE,
        log: io.warn,
      });
    }
    if (system === 'llama.cpp') {
      const lib = await loadNodeLlamaCpp();
      if (typeof lib === 'string') {
        notes.push(`llama.cpp: \`node-llama-cpp\` cannot be imported (${lib}): skipped.`);
        return undefined;
      }
      llamaCpp = await startLlamaCppTarget({
        lib,
        generateDir: dirs.generateDir,
        prompts,
        workDir,
        maxSequences: Math.max(...generateLevels),
        threads: opts.llamaThreads,
      });
      return llamaCpp;
    }
    if (system === 'transformers.js') {
      if (!transformersAvailable()) {
        notes.push(
          'transformers.js: `@huggingface/transformers` is not installed (a dev dependency): skipped.',
        );
        return undefined;
      }
      return startTransformersTarget({ ...dirs, embedDir, prompts, texts, workDir, readyTimeoutMs: 120_000 });
    }
    redis ??= await startBenchRedis(workDir, opts.redisUrl, env['REDIS_URL']);
    io.progress(`  Redis: ${redis.description} (${redis.url})`);
    const suffix = redis.private ? '' : `-${process.pid.toString(36)}${Date.now().toString(36)}`;
    const models: CompareModels = {
      generate: { name: `${system}-gen${suffix}`, dir: dirs.generateDir },
      embed: { name: `${system}-embed${suffix}`, dir: dirs.embedDir },
    };
    return startClusterTarget({
      system,
      models,
      withEmbed,
      prompts,
      texts,
      redisUrl: redis.url,
      dataDir: opts.dataDir,
      workDir,
      baseEnv: env,
      ...(redis.pid ? { redisPid: redis.pid } : {}),
    });
  };

  const targets: BenchTarget[] = [];
  const fail = (system: SystemName, err: unknown): void => {
    if (!failed.includes(system)) failed.push(system);
    notes.push(`${system}: failed: ${(err as Error).message.split('\n')[0]}`);
    io.warn(`${system} failed: ${(err as Error).message}`);
  };
  try {
    // Every system is started up front and the levels interleave (each level runs on one system
    // after the other), so a burst of outside load on the machine hits all systems alike instead of
    // skewing the ratios. Only one system has load at a time; the idle ones cost next to nothing.
    for (const system of opts.systems) {
      io.progress(`${system}: starting`);
      try {
        const target = await start(system);
        if (target) targets.push(target);
      } catch (err) {
        fail(system, err);
      }
    }
    if (llamaCpp && opts.workloads.includes('generate')) {
      io.progress(`llama.cpp: comparing greedy tokens with Hotpath (${prompts.length} prompts)`);
      try {
        agreement = compareGreedy(
          await hotpathGreedy(
            dirs.generateDir,
            prompts.map((p) => p.prompt),
            AGREEMENT_TOKENS,
          ),
          await llamaCpp.greedyTokens(AGREEMENT_TOKENS),
          AGREEMENT_TOKENS,
        );
        io.progress(`  ${agreement.identical}/${agreement.prompts} prompts identical`);
      } catch (err) {
        notes.push(`llama.cpp: token agreement not measured: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    for (const workload of opts.workloads) {
      const wp = plan[workload];
      await runWorkload(workload, {
        ...wp,
        concurrency: opts.levels ?? wp.concurrency,
        open: { ...wp.open, maxSteps: opts.openSteps ?? wp.open.maxSteps },
        durationMs: opts.durationMs ?? wp.durationMs,
        // Narrowed runs (tests) keep every level time-bound.
        singleRequests: opts.durationMs !== undefined ? 0 : wp.singleRequests,
      });
    }
    for (const t of targets) notes.push(...t.notes());
  } finally {
    for (const t of targets) {
      await t.stop().catch((err: unknown) => io.warn(`stopping ${t.system}: ${(err as Error).message}`));
    }
    await endBenchRun(redis, workDir, failed.length === 0, io, 'systems');
  }

  async function runWorkload(workload: Workload, wp: WorkloadPlan): Promise<void> {
    const active = new Map<SystemName, Sender>();
    for (const t of targets) {
      if (failed.includes(t.system)) continue;
      const send = workload === 'generate' ? t.generate() : t.embed();
      if (!send) {
        notes.push(`${t.system}: cannot run the ${workload} workload: skipped.`);
        continue;
      }
      // Warm-up: first-call costs (session init, JIT, connections) stay out of the numbers.
      await t.prepareLevel?.({ concurrency: 2 });
      const warm = await closedLoop({
        concurrency: 2,
        durationMs: 0,
        maxRequests: plan.warmupRequests,
        send,
      });
      const bad = warm.samples.find((x) => !x.ok);
      if (bad) fail(t.system, new Error(`${workload} warm-up request failed: ${bad.error ?? 'unknown'}`));
      else active.set(t.system, send);
    }
    const level = async (
      system: SystemName,
      load: LevelLoad,
      drive: () => Promise<LoadResult>,
    ): Promise<CompareRow> => {
      const label = 'concurrency' in load ? `concurrency ${load.concurrency}` : `open loop ${load.rate}/s`;
      io.progress(`  ${workload} ${label}: ${system}`);
      await targets.find((t) => t.system === system)?.prepareLevel?.(load);
      const row = toCompareRow(await drive(), { system, workload, load });
      rows.push(row);
      if (row.errors > 0)
        io.warn(`${system} ${workload} ${label}: ${row.errors}/${row.requests} requests failed`);
      io.progress(
        `    ${row.throughput} req/s${row.tokens_per_s !== null ? `, ${row.tokens_per_s} tok/s` : ''}, p50 ${row.p50_ms ?? '-'} ms, p99 ${row.p99_ms ?? '-'} ms${row.ttft_p50_ms !== null ? `, TTFT p50 ${row.ttft_p50_ms} ms` : ''}`,
      );
      return row;
    };
    for (const concurrency of wp.concurrency) {
      for (const [system, send] of active) {
        try {
          await level(system, { concurrency }, () =>
            concurrency === 1 && wp.singleRequests > 0
              ? closedLoop({
                  concurrency,
                  durationMs: SINGLE_LEVEL_LIMIT_MS,
                  maxRequests: wp.singleRequests,
                  send,
                })
              : closedLoop({ concurrency, durationMs: wp.durationMs, send }),
          );
        } catch (err) {
          fail(system, err);
          active.delete(system);
        }
      }
    }
    const saturation = new Map<SystemName, number>();
    for (const system of active.keys()) {
      const best = Math.max(
        0,
        ...rows.filter((r) => r.system === system && r.workload === workload).map((r) => r.throughput),
      );
      if (best > 0) saturation.set(system, best);
    }
    const minRequests = opts.quick ? MIN_OPEN_REQUESTS.quick : MIN_OPEN_REQUESTS.full;
    for (let i = 0; i < wp.open.maxSteps && saturation.size > 0; i++) {
      for (const [system, sat] of [...saturation]) {
        const send = active.get(system) as Sender;
        const rate = openRate(sat, wp.open, i);
        const durationMs = Math.max(wp.durationMs, Math.ceil((minRequests / rate) * 1000));
        try {
          const row = await level(system, { rate }, () => openLoop({ rate, durationMs, send }));
          if (isSaturated(rate, row.throughput, row.errors)) saturation.delete(system);
        } catch (err) {
          fail(system, err);
          saturation.delete(system);
        }
      }
    }
  }

  const doc: CompareDocument = {
    schema: COMPARE_SCHEMA,
    meta: {
      command: opts.command,
      started_at: startedAt,
      duration_s: Math.round((Date.now() - started) / 100) / 10,
      quick: opts.quick,
      model: {
        generate: 'preset' in opts.model ? opts.model.preset : basename(opts.model.dir),
        embed: 'tiny-embed',
        generate_digest: digestOf(dirs.generateDir),
      },
      machine: {
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
        memory_gb: Math.round(totalmem() / 2 ** 30),
        platform: `${platform()} ${release()}`,
        node: process.version,
      },
      systems: opts.systems,
      workloads: opts.workloads,
      prompt_set: { seed: PROMPT_SEED, size: prompts.length, max_tokens: [opts.tokens.min, opts.tokens.max] },
      max_batch_size: MAX_BATCH_SIZE,
    },
    results: rows,
    summary: summarizeCompare(rows, roofline?.compute_tokens_per_s),
    roofline,
    token_agreement_llama_cpp: agreement,
    notes,
  };
  return { doc, failed };
}
