import { UsageError, parseFlags } from '@hotpath/cli-kit';
import { benchEnvironment, COMMON_BENCH_FLAGS, intFlag, listFlag } from '../bench-flags';
import { SYSTEMS, WORKLOADS, type SystemName, type Workload } from './compare-plan';
import { DEFAULT_TOKEN_RANGE, type TokenRange } from './prompt-set';

/** Forge presets `--model` accepts by name (forged into `$HOTPATH_DATA_DIR/models/<name>` when missing). */
export const MODEL_PRESETS = ['tiny', 'small', 'base'] as const;

/** Everything `hotpath bench compare` needs, parsed once. */
export interface CompareBenchOptions {
  /** A forge preset name, or an absolute model folder. */
  model: { preset: (typeof MODEL_PRESETS)[number] } | { dir: string };
  quick: boolean;
  /** `--json`: the report on stdout (human lines on stderr). */
  json: boolean;
  /** `--out FILE`, absolute. */
  outFile: string | undefined;
  reportDir: string | undefined;
  systems: SystemName[];
  workloads: Workload[];
  /** Replaces the closed-loop levels of both workloads (hidden, for tests). */
  levels: number[] | undefined;
  /** Replaces the most open-loop rates per workload; 0 = closed loop only (hidden). */
  openSteps: number | undefined;
  /** Replaces every level's duration (hidden). */
  durationMs: number | undefined;
  tokens: TokenRange;
  promptCount: number;
  /** llama.cpp threads; undefined = one per core. */
  llamaThreads: number | undefined;
  /** Measure the host's roofline (GEMM FLOP/s, memory bandwidth) before the systems start. */
  roofline: boolean;
  redisUrl: string | undefined;
  dataDir: string;
  /** Progress lines (TTY and not CI). */
  interactive: boolean;
  /** The command line as typed, for the report. */
  command: string;
}

export const BENCH_COMPARE_USAGE = `Usage: hotpath bench compare [--model small|base|DIR] [--quick] [--json] [--out FILE] [--report DIR]

Measures, on the same model and machine in one run, one system after the other:
  ort-direct       the model runtime in-process through @hotpath/model-runtime (continuous batching,
                   the engine execution.engine auto picks — onnxruntime-node, or the WASM engine for
                   a tiny model — no HTTP, no Redis): the limit of this machine
  llama.cpp        the same weights exported as F32 GGUF, run in-process by node-llama-cpp on the
                   CPU (one context sequence per request, as many sequences as the concurrency,
                   one thread per core; skipped when node-llama-cpp is not installed)
  transformers.js  @huggingface/transformers pipelines behind a minimal Node HTTP server, one request
                   at a time, local files only (skipped when the package is not installed)
  naive            a Hotpath cluster with batching and caching off
  hotpath          a Hotpath cluster with batching on, caching off
Each gets closed-loop concurrency levels, then open-loop arrival rates rising from half its
closed-loop saturation until it saturates (latency from the intended send time: no coordinated
omission). Workloads: seeded prompts of varied length with 64-128 new tokens (greedy) on the model,
and one-text embeddings on tiny-embed. Missing forged models go to $HOTPATH_DATA_DIR/models.
Before the systems start, a few-second microbenchmark measures the host's GEMM FLOP/s and memory
bandwidth (the roofline); the report gives each system's throughput as a share of the model's
compute limit. With llama.cpp in the run, its greedy tokens are compared with Hotpath's on the
prompt set (first 32 tokens of each).

Options:
  --model NAME|DIR  forge preset (tiny, small, base; default small) or a model folder
  --quick           fewer and shorter levels (under 5 minutes on 2 cores with small)
  --json            print the results document to stdout (human-readable lines go to stderr)
  --out FILE        write the results document (schema: docs/benchmarks.md) to FILE
  --report DIR      write report.md (Markdown summary) and SVG charts
  --redis-url URL   use this Redis instead of starting a private redis-server

Narrowing (mostly for tests):
  --systems a,b     ort-direct, llama.cpp, transformers.js, naive, hotpath (default all)
  --workloads a,b   generate, embed (default both)
  --levels 1,4      closed-loop concurrency levels
  --open-steps N    at most N open-loop rates per workload (0 = closed loop only)
  --duration-ms N   length of each load level
  --max-tokens A-B  new tokens per request, drawn from A..B (default 64-128)
  --prompts N       size of the seeded prompt set (default 64)
  --no-roofline     skip the roofline microbenchmark
  --llama-threads N llama.cpp threads (default one per core; see docs/benchmarks.md on shared hosts)`;

/** Parses the flags of `hotpath bench compare`; a bad one is a {@link UsageError}. */
export function parseCompareBenchOptions(
  argv: readonly string[],
  env: { HOTPATH_DATA_DIR?: string; CI?: string },
  isTTY: boolean,
  cwd: string,
): CompareBenchOptions {
  const values = parseFlags(argv, {
    ...COMMON_BENCH_FLAGS,
    model: { type: 'string', default: 'small' },
    report: { type: 'string' },
    systems: { type: 'string' },
    workloads: { type: 'string' },
    levels: { type: 'string' },
    'open-steps': { type: 'string' },
    'duration-ms': { type: 'string' },
    'max-tokens': { type: 'string' },
    prompts: { type: 'string' },
    'no-roofline': { type: 'boolean', default: false },
    'llama-threads': { type: 'string' },
  });
  const { abs, dataDir, interactive } = benchEnvironment(env, isTTY, cwd);
  const model = (MODEL_PRESETS as readonly string[]).includes(values.model)
    ? { preset: values.model as (typeof MODEL_PRESETS)[number] }
    : { dir: abs(values.model) };
  let tokens = DEFAULT_TOKEN_RANGE;
  if (values['max-tokens'] !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(values['max-tokens']);
    const [min, max] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    if (!(min >= 1 && max >= min && max <= 4096))
      throw new UsageError(
        `--max-tokens must be A-B with 1 <= A <= B <= 4096, got "${values['max-tokens']}"`,
      );
    tokens = { min, max };
  }
  const levels = values.levels?.split(',').map((s) => intFlag(s.trim(), '--levels', 1, 4096) as number);
  return {
    model,
    quick: values.quick,
    json: values.json,
    outFile: values.out ? abs(values.out) : undefined,
    reportDir: values.report ? abs(values.report) : undefined,
    systems: values.systems ? listFlag(values.systems, SYSTEMS, '--systems') : [...SYSTEMS],
    workloads: values.workloads ? listFlag(values.workloads, WORKLOADS, '--workloads') : [...WORKLOADS],
    levels: levels ? [...new Set(levels)].sort((a, b) => a - b) : undefined,
    openSteps: intFlag(values['open-steps'], '--open-steps', 0, 50),
    durationMs: intFlag(values['duration-ms'], '--duration-ms', 100, 600_000),
    tokens,
    promptCount: intFlag(values.prompts, '--prompts', 1, 100_000) ?? 64,
    roofline: !values['no-roofline'],
    llamaThreads: intFlag(values['llama-threads'], '--llama-threads', 1, 1024),
    redisUrl: values['redis-url'] || undefined,
    dataDir,
    interactive,
    command: ['hotpath', 'bench', 'compare', ...argv].join(' '),
  };
}
