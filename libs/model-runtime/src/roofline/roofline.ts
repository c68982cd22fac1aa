import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LlamaConfig } from '../model/model-config';
import { GraphBuilder } from '../onnx/graph-builder';
import { Prng } from '../forge/prng';
import { OrtSession, DEFAULT_EXECUTION } from '../session/ort-session';

/** GEMM speed at one row count (the batch: tokens in flight). */
export interface GemmPoint {
  rows: number;
  gflops: number;
}

/** What {@link measureRoofline} measured on this host. */
export interface Roofline {
  /** `[rows, dim] × [dim, dim]` MatMuls chained `chain` deep, through onnxruntime on the CPU. */
  gemm: GemmPoint[];
  /** The best of {@link gemm}: the host's usable compute peak (GFLOP/s). */
  peak_gflops: number;
  /** Large buffer copy in this process (read + write bytes per second, GB/s). */
  memory_bandwidth_gb_s: number;
  /** Weight bytes streamed per second by the 1-row GEMM (a decode step's memory-bound case). */
  gemv_bandwidth_gb_s: number;
  dim: number;
  seconds: number;
}

/** Options of {@link measureRoofline}; the defaults take about 8–12 s on 2 cores. */
export interface RooflineOptions {
  rows?: readonly number[];
  dim?: number;
  /** MatMuls per run (weights `chain × dim² × 4` bytes: larger than the caches). */
  chain?: number;
  /** Time spent timing each row count after its warm-up run. */
  msPerPoint?: number;
  /** onnxruntime intra-op threads (0 = its default, one per core). */
  threads?: number;
  /**
   * Passes over the row counts (default 3); each point keeps its fastest pass. A limit is what the
   * machine can do, and a pass that another process or a frequency dip slowed says less about it:
   * single passes of the default point at 64 rows moved 4,400 – 6,200 model tok/s between runs.
   */
  passes?: number;
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

async function timeRuns(run: () => Promise<void>, ms: number): Promise<number> {
  await run();
  let n = 0;
  const start = performance.now();
  do {
    await run();
    n++;
  } while (performance.now() - start < ms);
  return (performance.now() - start) / 1000 / n;
}

/**
 * Measures this host's roofline: GEMM FLOP/s through onnxruntime (`chain` MatMuls of
 * `[rows, dim] × [dim, dim]` at each row count) and memory bandwidth (a 256 MiB copy, and the weight
 * bytes per second of the 1-row GEMM). A few seconds; run it with no other load on the machine.
 */
export async function measureRoofline(opts: RooflineOptions = {}): Promise<Roofline> {
  const rowsList = opts.rows ?? [1, 16, 64, 256];
  const dim = opts.dim ?? 2048;
  const chain = opts.chain ?? 4;
  const ms = opts.msPerPoint ?? 400;
  const started = performance.now();
  const b = new GraphBuilder('roofline');
  let x = b.input('x', 'float32', ['rows', dim]);
  const rng = new Prng(7);
  const w = Float32Array.from({ length: dim * dim }, () => (rng.next() - 0.5) / Math.sqrt(dim));
  for (let i = 0; i < chain; i++) {
    // Separate copies (not one shared initializer), so every MatMul streams its own weights.
    x = b.op(
      'MatMul',
      [x, b.initializer(`w${i}`, [dim, dim], w.slice())],
      {},
      i === chain - 1 ? 'y' : undefined,
    );
  }
  b.output('y', 'float32', ['rows', dim]);
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-roofline-'));
  const gemm: GemmPoint[] = [];
  let gemvSeconds = 0;
  try {
    const path = join(dir, 'gemm.onnx');
    writeFileSync(path, b.toModelProto().toBuffer());
    const session = await OrtSession.create(path, {
      ...DEFAULT_EXECUTION,
      intra_op_threads: opts.threads ?? 0,
    });
    try {
      const inputs = rowsList.map((rows) =>
        Float32Array.from({ length: rows * dim }, () => rng.next() - 0.5),
      );
      const best = rowsList.map(() => Infinity);
      // Passes interleave the row counts, so a slow moment costs one pass of each, not one point.
      for (let pass = 0; pass < Math.max(1, opts.passes ?? 3); pass++)
        for (const [i, rows] of rowsList.entries()) {
          const data = inputs[i] as Float32Array;
          const s = await timeRuns(async () => {
            await session.run({ x: { type: 'float32', data, dims: [rows, dim] } });
          }, ms);
          best[i] = Math.min(best[i] as number, s);
        }
      for (const [i, rows] of rowsList.entries()) {
        const s = best[i] as number;
        if (rows === 1) gemvSeconds = s;
        gemm.push({ rows, gflops: round((2 * rows * dim * dim * chain) / s / 1e9) });
      }
    } finally {
      await session.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const src = new Float32Array(64 << 20).fill(1);
  const dst = new Float32Array(src.length);
  const copy = await timeRuns(async () => {
    dst.set(src);
  }, ms / 2);
  return {
    gemm,
    peak_gflops: Math.max(...gemm.map((g) => g.gflops)),
    memory_bandwidth_gb_s: round((2 * src.byteLength) / copy / 1e9),
    gemv_bandwidth_gb_s: gemvSeconds > 0 ? round((chain * dim * dim * 4) / gemvSeconds / 1e9) : 0,
    dim,
    seconds: round((performance.now() - started) / 1000),
  };
}

type LlamaShape = Pick<
  LlamaConfig,
  | 'hidden_size'
  | 'intermediate_size'
  | 'num_hidden_layers'
  | 'num_attention_heads'
  | 'num_key_value_heads'
  | 'vocab_size'
> & { head_dim?: number };

/** Weights a Llama decoder multiplies per token: every projection and the classifier (not the embedding gather). */
export function modelMatmulParameters(config: LlamaShape): number {
  const H = config.hidden_size;
  const D = config.head_dim ?? H / config.num_attention_heads;
  const q = config.num_attention_heads * D;
  const kv = config.num_key_value_heads * D;
  const perLayer = H * q + 2 * H * kv + q * H + 3 * H * config.intermediate_size;
  return config.num_hidden_layers * perLayer + H * config.vocab_size;
}

/**
 * FLOPs to decode one token of a Llama decoder: 2 × the matmul parameters, plus attention over
 * `context` cached positions (q·kᵀ and p·v: 4 × heads × head_dim × context per layer).
 */
export function modelFlopsPerToken(config: LlamaShape, context = 0): number {
  const D = config.head_dim ?? config.hidden_size / config.num_attention_heads;
  const attention = 4 * config.num_attention_heads * D * context * config.num_hidden_layers;
  return 2 * modelMatmulParameters(config) + attention;
}

/** The model's limits on this host: tokens/s at the GEMM peak, and single-stream tokens/s at the copy bandwidth (F32 weights read once per token). */
export function rooflineLimits(
  roofline: Pick<Roofline, 'peak_gflops' | 'memory_bandwidth_gb_s'>,
  config: LlamaShape,
  context = 0,
): { flops_per_token: number; compute_tokens_per_s: number; memory_tokens_per_s: number } {
  const flops = modelFlopsPerToken(config, context);
  return {
    flops_per_token: flops,
    compute_tokens_per_s: round((roofline.peak_gflops * 1e9) / flops),
    memory_tokens_per_s: round((roofline.memory_bandwidth_gb_s * 1e9) / (4 * modelMatmulParameters(config))),
  };
}
