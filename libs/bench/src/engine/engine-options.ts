import { resolve } from 'node:path';
import { UsageError, parseFlags } from '@hotpath/cli-kit';
import { ENGINE_MODES, type EngineMode } from '@hotpath/contracts';
import { hostCores } from '@hotpath/model-runtime';
import { intFlag, REPORT_FLAGS } from '../bench-flags';

/** Options of `hotpath bench engine`. */
export interface EngineBenchOptions {
  /** A model folder, or a preset forged on the fly (`tiny`, `small`, `base`). */
  model: { dir: string } | { preset: 'tiny' | 'small' | 'base' };
  streams: number[];
  /** New tokens per sequence (greedy). */
  tokens: number;
  warmupMs: number;
  measureMs: number;
  /** Engines side by side, each on its own thread (a worker's `replicas`; `auto`: one per core). */
  replicas: number;
  /** onnxruntime intra-op threads of each replica; 0 = floor(cores / replicas). */
  threads: number;
  /** `batching.continuous.prefill_chunk_tokens` of the scheduler. */
  prefillChunkTokens: number;
  /** `batching.continuous.decode_steps_per_prefill` of the scheduler. */
  decodeStepsPerPrefill: number;
  /** `execution.gqa_chunk_rows`: GQA forwards of at most N rows at every batch size; unset = default. */
  gqaChunkRows: number | undefined;
  /** Running sequences up to which the GQA graph runs (`execution.gqa_max_rows`); unset = default. */
  gqaMaxRows: number | undefined;
  engine: EngineMode;
  /** `--json`: the report on stdout (human lines on stderr). */
  json: boolean;
  /** `--out FILE`, absolute. */
  outFile: string | undefined;
  quick: boolean;
  interactive: boolean;
}

export const BENCH_ENGINE_USAGE = `Usage: hotpath bench engine [--model small|tiny|base|DIR] [--streams 1,4,16,64] [--quick] [--json] [--out FILE]

Decoding engine throughput in this process (no Redis, no HTTP): for each stream count, that many
sequences are generated at once, closed loop (a finished sequence is replaced at once), through
the continuous-batching scheduler and the engine. With --replicas N, N engines run side by side,
each on its own worker thread, and share each level's streams, as a worker with replicas: N does.
A level is measured once it is in its steady state: after the warm-up and once every stream has
ended one sequence (at most 60 s), so the first wave of prefills is not what it reports. Prints tokens/s
per level, the speed-up over one stream, and the host's roofline: GEMM FLOP/s through
onnxruntime at 1/16/64/256 rows against the model's FLOPs per token, as % of the limit.

Options:
  --model M         preset forged on the fly (small, the default; tiny; base) or a model folder
  --streams LIST    comma-separated stream counts (default 1,4,16,64)
  --tokens N        new tokens per sequence (default 64)
  --seconds S       measured seconds per level (default 8; --quick 3)
  --replicas N|auto engines side by side, each on its own thread (default auto: one per core,
                    as a worker's replicas: auto)
  --threads N       onnxruntime intra-op threads per replica (default: floor(cores / replicas))
  --engine E        auto (default: what a worker runs), wasm (Hotpath's SIMD kernels), arena
                    (in-place KV arena, engine graph on onnxruntime) or plain (the folder's graph)
  --gqa-max-rows N  arena: running sequences up to which the GroupQueryAttention graph runs
                    (execution.gqa_max_rows; default 8, 0 = wide graph only)
  --gqa-chunk-rows N arena: keep the GQA graph at every batch size, in forwards of at most N rows
                    (execution.gqa_chunk_rows; default 0 = wide graph above --gqa-max-rows)
  --prefill-chunk-tokens N      scheduler prompt-token budget per iteration
                                (batching.continuous.prefill_chunk_tokens; default 512)
  --decode-steps-per-prefill N  decode steps between two prefills
                                (batching.continuous.decode_steps_per_prefill; default 1)
  --quick           short levels (for CI smoke runs)
  --json            print the report as JSON to stdout (human-readable lines go to stderr)
  --out FILE        write the report as JSON to FILE`;

/** Parses `hotpath bench engine` flags. */
export function parseEngineBenchOptions(
  argv: readonly string[],
  interactive: boolean,
  cwd: string,
): EngineBenchOptions {
  const v = parseFlags(argv, {
    quick: { type: 'boolean', default: false },
    ...REPORT_FLAGS,
    model: { type: 'string' },
    streams: { type: 'string' },
    tokens: { type: 'string' },
    seconds: { type: 'string' },
    threads: { type: 'string' },
    replicas: { type: 'string' },
    engine: { type: 'string' },
    'gqa-max-rows': { type: 'string' },
    'gqa-chunk-rows': { type: 'string' },
    'prefill-chunk-tokens': { type: 'string' },
    'decode-steps-per-prefill': { type: 'string' },
  });
  const m = v.model ?? 'small';
  const model: EngineBenchOptions['model'] =
    m === 'tiny' || m === 'small' || m === 'base' ? { preset: m } : { dir: resolve(cwd, m) };
  const streams = (v.streams ?? '1,4,16,64')
    .split(',')
    .map((s) => intFlag(s.trim(), '--streams', 1, 1024) as number);
  if (streams.length === 0) throw new UsageError('--streams needs at least one count');
  const engine = (v.engine ?? 'auto') as EngineMode;
  if (!ENGINE_MODES.includes(engine))
    throw new UsageError(`--engine must be one of ${ENGINE_MODES.join(', ')}, got "${engine}"`);
  const seconds = intFlag(v.seconds, '--seconds', 1, 600) ?? (v.quick ? 3 : 8);
  return {
    model,
    streams: [...new Set(streams)].sort((a, b) => a - b),
    tokens: intFlag(v.tokens, '--tokens', 1, 4096) ?? 64,
    warmupMs: v.quick ? 1000 : 2000,
    measureMs: seconds * 1000,
    replicas:
      v.replicas === undefined || v.replicas === 'auto'
        ? Math.min(64, hostCores())
        : (intFlag(v.replicas, '--replicas', 1, 64) as number),
    threads: intFlag(v.threads, '--threads', 0, 256) ?? 0,
    prefillChunkTokens: intFlag(v['prefill-chunk-tokens'], '--prefill-chunk-tokens', 1, 65_536) ?? 512,
    decodeStepsPerPrefill: intFlag(v['decode-steps-per-prefill'], '--decode-steps-per-prefill', 1, 64) ?? 1,
    gqaChunkRows: intFlag(v['gqa-chunk-rows'], '--gqa-chunk-rows', 0, 4096),
    gqaMaxRows: intFlag(v['gqa-max-rows'], '--gqa-max-rows', 0, 4096),
    engine,
    json: v.json,
    outFile: v.out === undefined ? undefined : resolve(cwd, v.out),
    quick: v.quick,
    interactive,
  };
}
