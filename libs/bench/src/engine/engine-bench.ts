import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_GQA_MAX_ROWS } from '@hotpath/contracts';
import {
  DEFAULT_EXECUTION,
  LocalModel,
  hostCores,
  engineGraphFor,
  forgeModel,
  inspectOnnx,
  measureRoofline,
  replicaExecution,
  modelFlopsPerToken,
  type EngineKind,
  type LlamaConfig,
  type Roofline,
} from '@hotpath/model-runtime';
import { promptSet } from '../compare/prompt-set';
import { runLevel, type LevelMeasure } from './engine-level';
import type { EngineBenchOptions } from './engine-options';
import { EngineReplicas } from './engine-replicas';

/** One stream count's result. */
export interface EngineLevel {
  streams: number;
  tokens_per_s: number;
  /** Tokens per CPU second of the process: the engine's efficiency, steadier than tokens/s on a shared host. */
  tokens_per_cpu_s: number;
  /** Mean ms per decode-or-prefill step (forward) over the window. */
  step_ms: number;
  /** Tokens/s divided by the one-stream level's (null without a one-stream level). */
  speedup_vs_1: number | null;
  /**
   * Tokens/s of the decode forwards alone (prefill time left out): what batching does to a decode
   * step, the figure the GEMM roofline speaks to.
   */
  decode_tokens_per_s: number;
  decode_speedup_vs_1: number | null;
  /** Mean rows per decode forward (below `streams` while sequences are being refilled). */
  mean_decode_batch: number;
  /** Mean context (prompt + generated) of the sequences generated in the window. */
  mean_context: number;
  /** The GEMM-bound limit of a decode step: measured FLOP/s at its mean rows ÷ FLOPs per token. */
  roofline_tokens_per_s: number;
  /** `decode_tokens_per_s` as % of `roofline_tokens_per_s`. */
  pct_of_roofline: number;
}

/** The whole report (`--json`). */
export interface EngineBenchReport {
  meta: { date: string; node: string; host_cores: number; duration_s: number; quick: boolean };
  model: {
    dir: string;
    digest: string;
    /** The engine the replicas loaded (what `--engine auto` chose). */
    engine: EngineKind;
    /** Engines run side by side, each on its own thread with its own sessions and KV arena. */
    replicas: number;
    /** Intra-op threads of each replica. */
    threads: number;
    /** Running sequences up to which the GQA graph runs (0: wide graph only; null: plain engine). */
    gqa_max_rows: number | null;
    /** GQA forwards of at most this many rows at every batch size (0: the wide graph above `gqa_max_rows`). */
    gqa_chunk_rows: number;
    /**
     * Graph nodes as stored: the folder's interoperable graph and the engine graphs (wide, GQA, and
     * the wide graph's decode-only variant when the replicas decode on it).
     */
    nodes: {
      model_onnx: number;
      engine_graph: number | null;
      gqa_graph: number | null;
      decode_graph: number | null;
    };
    flops_per_token: number;
    tokens_per_sequence: number;
  };
  /** GEMM through one session with every replica's threads (replicas × threads). */
  roofline: Roofline;
  /**
   * With several replicas: GEMM through one session with one replica's threads. A level's limit is
   * the better of this × replicas (each replica on its own cores) and `roofline` at all their rows.
   */
  replica_roofline: Roofline | null;
  levels: EngineLevel[];
  targets: Record<string, { target: string; value: number | null; met: boolean | null }>;
}

/**
 * GEMM FLOP/s at `rows`, interpolated log-linearly between measured row counts. A GEMM of more rows
 * can do at least what one of fewer rows did (it could run as two), so each point counts as at
 * least the best at fewer rows: one slow measurement does not lower the limit.
 */
export function gflopsAt(roofline: Pick<Roofline, 'gemm'>, rows: number): number {
  let best = 0;
  const pts = [...roofline.gemm]
    .sort((a, b) => a.rows - b.rows)
    .map((p) => ({ rows: p.rows, gflops: (best = Math.max(best, p.gflops)) }));
  const first = pts[0];
  if (!first) return 0;
  if (rows <= first.rows) return first.gflops;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1] as { rows: number; gflops: number };
    const b = pts[i] as { rows: number; gflops: number };
    if (rows <= b.rows) {
      const t = Math.log(rows / a.rows) / Math.log(b.rows / a.rows);
      return a.gflops + t * (b.gflops - a.gflops);
    }
  }
  return (pts[pts.length - 1] as { gflops: number }).gflops;
}

const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;

/** Resolves the model folder: the given one, or a preset forged once into the temp dir. */
function modelDir(opts: EngineBenchOptions): string {
  if ('dir' in opts.model) return opts.model.dir;
  const dir = join(tmpdir(), 'hotpath-bench-models', `${opts.model.preset}-seed1`);
  // forgeModel is deterministic: rewriting the same preset gives the same folder (and digest).
  forgeModel({ arch: 'llama', preset: opts.model.preset, seed: 1, out: dir });
  return dir;
}

/** Runs `hotpath bench engine`. */
export async function runEngineBench(
  opts: EngineBenchOptions,
  progress: (line: string) => void,
): Promise<EngineBenchReport> {
  const started = performance.now();
  const dir = modelDir(opts);
  const replicas = opts.replicas;
  // As a worker shares the host out between its replicas, unless told otherwise.
  const execution = replicaExecution(
    {
      ...DEFAULT_EXECUTION,
      intra_op_threads: opts.threads,
      inter_op_threads: 1,
      ...(opts.gqaMaxRows === undefined ? {} : { gqa_max_rows: opts.gqaMaxRows }),
      ...(opts.gqaChunkRows === undefined ? {} : { gqa_chunk_rows: opts.gqaChunkRows }),
    },
    replicas,
  );
  const threads = execution.intra_op_threads;
  const allThreads = threads * replicas;
  progress(`roofline: timing GEMMs through onnxruntime (${allThreads} threads)…`);
  const msPerPoint = opts.quick ? 200 : 500;
  const roofline = await measureRoofline({ threads: allThreads, msPerPoint });
  const replicaRoofline = replicas > 1 ? await measureRoofline({ threads, msPerPoint }) : null;
  const options = { engine: opts.engine, execution };
  // Loaded here too for what the report says of it (and to derive the engine graphs once).
  const model = await LocalModel.load(dir, options);
  const cfg = model.info.config as LlamaConfig;
  const graph = model.engine === 'arena' ? engineGraphFor(model.info) : null;
  const enginePath = graph && 'path' in graph ? graph.path : null;
  // No GQA graph when the head size is not a multiple of 8: the wide graph then runs alone.
  const gqaPath = graph && 'path' in graph ? graph.gqaPath : null;
  // The decode-only variant, when that is the wide graph the replicas loaded.
  const decodePath =
    model.arenaGraphs && model.arenaGraphs.wide !== enginePath ? model.arenaGraphs.wide : null;
  // Lengths vary (½ to 1½ × --tokens) so sequences do not all finish, and refill, in one wave.
  const prompts = promptSet(42, 64, {
    min: Math.max(1, Math.round(opts.tokens / 2)),
    max: Math.round((3 * opts.tokens) / 2),
  });
  const timing = {
    warmupMs: opts.warmupMs,
    measureMs: opts.measureMs,
    prefillChunkTokens: opts.prefillChunkTokens,
    decodeStepsPerPrefill: opts.decodeStepsPerPrefill,
  };
  // One replica runs here, in-process; several run on their own threads (this one is not needed).
  let pool: EngineReplicas | undefined;
  if (replicas > 1) {
    await model.close();
    pool = await EngineReplicas.start(replicas, { dir, options });
  }
  const raw: ({ streams: number } & LevelMeasure)[] = [];
  try {
    for (const streams of opts.streams) {
      progress(`${streams} stream(s)${pool ? ` over ${replicas} replicas` : ''}…`);
      const measure = pool
        ? await pool.runLevel(streams, timing, prompts)
        : await runLevel(model, streams, timing, prompts);
      raw.push({ streams, ...measure });
    }
  } finally {
    await (pool ? pool.close() : model.close());
  }
  const one = raw.find((r) => r.streams === 1);
  const ratio = (a: number, b: number | undefined): number | null => (b ? round(a / b, 2) : null);
  const meanContext = raw.reduce((a, r) => a + r.meanContext, 0) / Math.max(1, raw.length);
  const flops = modelFlopsPerToken(cfg, meanContext);
  const levels: EngineLevel[] = raw.map((r) => {
    // The limit of a decode step with this many rows: GEMM FLOP/s at that row count ÷ FLOPs per token.
    const rows = Math.max(1, r.meanDecodeBatch);
    const gflops = Math.max(
      gflopsAt(roofline, rows * replicas),
      replicaRoofline ? replicas * gflopsAt(replicaRoofline, rows) : 0,
    );
    const limit = (gflops * 1e9) / modelFlopsPerToken(cfg, r.meanContext);
    return {
      streams: r.streams,
      tokens_per_s: round(r.tokensPerS),
      tokens_per_cpu_s: round(r.cpuSeconds > 0 ? r.tokens / r.cpuSeconds : 0),
      step_ms: round(r.stepMs, 2),
      speedup_vs_1: ratio(r.tokensPerS, one?.tokensPerS),
      decode_tokens_per_s: round(r.decodeTokensPerS),
      decode_speedup_vs_1: ratio(r.decodeTokensPerS, one?.decodeTokensPerS),
      mean_decode_batch: round(r.meanDecodeBatch),
      mean_context: round(r.meanContext),
      roofline_tokens_per_s: round(limit),
      pct_of_roofline: round((100 * r.decodeTokensPerS) / limit),
    };
  });
  return {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      host_cores: hostCores(),
      duration_s: round((performance.now() - started) / 1000),
      quick: opts.quick,
    },
    model: {
      dir,
      digest: model.info.digest,
      engine: model.engine ?? 'plain',
      gqa_max_rows: model.engine !== 'arena' ? null : gqaPath ? (opts.gqaMaxRows ?? DEFAULT_GQA_MAX_ROWS) : 0,
      gqa_chunk_rows: gqaPath ? (opts.gqaChunkRows ?? 0) : 0,
      replicas,
      // The WASM engine is single-threaded: each replica runs on one core whatever it is given.
      threads: model.engine === 'wasm' ? 1 : threads,
      nodes: {
        model_onnx: model.info.signature.nodes,
        engine_graph: enginePath ? inspectOnnx(readFileSync(enginePath)).nodes : null,
        gqa_graph: gqaPath ? inspectOnnx(readFileSync(gqaPath)).nodes : null,
        decode_graph: decodePath ? inspectOnnx(readFileSync(decodePath)).nodes : null,
      },
      flops_per_token: Math.round(flops),
      tokens_per_sequence: opts.tokens,
    },
    roofline,
    replica_roofline: replicaRoofline,
    levels,
    targets: engineTargets(levels),
  };
}

/** The engine issue's targets, as far as the levels measured allow. */
export function engineTargets(levels: readonly EngineLevel[]): EngineBenchReport['targets'] {
  const at = (n: number): EngineLevel | undefined => levels.find((l) => l.streams === n);
  const ratio = (n: number): number | null => at(n)?.speedup_vs_1 ?? null;
  const decodeRatio = (n: number): number | null => at(n)?.decode_speedup_vs_1 ?? null;
  const check = (value: number | null, min: number): boolean | null => (value === null ? null : value >= min);
  const r16 = ratio(16);
  const r64 = ratio(64);
  const t16 = at(16)?.tokens_per_s;
  const t64 = at(64)?.tokens_per_s;
  const best = levels.reduce<number | null>((m, l) => Math.max(m ?? 0, l.pct_of_roofline), null);
  return {
    speedup_16_vs_1: { target: '>= 5', value: r16, met: check(r16, 5) },
    speedup_64_vs_1: { target: '>= 8', value: r64, met: check(r64, 8) },
    decode_speedup_16_vs_1: { target: '>= 5', value: decodeRatio(16), met: check(decodeRatio(16), 5) },
    decode_speedup_64_vs_1: { target: '>= 8', value: decodeRatio(64), met: check(decodeRatio(64), 8) },
    '64_not_below_16': {
      target: '64 streams >= 16 streams',
      value: t16 && t64 ? round(t64 / t16, 2) : null,
      met: t16 && t64 ? t64 >= t16 : null,
    },
    best_pct_of_roofline: { target: '>= 50', value: best, met: check(best, 50) },
  };
}
