import { UsageError, parseFlags } from '@hotpath/cli-kit';
import { benchEnvironment, COMMON_BENCH_FLAGS, listFlag } from './bench-flags';
import { MODES, SCENARIOS, type BatchingMode, type Scenario } from './bench-plan';

/** Everything `hotpath bench batching` needs, parsed once. */
export interface BatchingBenchOptions {
  quick: boolean;
  /** `--json`: the report on stdout (human lines on stderr). */
  json: boolean;
  /** `--out FILE`, absolute. */
  outFile: string | undefined;
  svgFile: string | undefined;
  scenarios: Scenario[];
  modes: BatchingMode[];
  /** Replaces every scenario's closed-loop levels (hidden, for tests). */
  levels: number[] | undefined;
  /** Replaces the derived open-loop rates; an empty list means no open loop (hidden). */
  rates: number[] | undefined;
  /** Replaces every level's duration (hidden). */
  durationMs: number | undefined;
  /** Use this Redis instead of starting a private one. */
  redisUrl: string | undefined;
  /** `HOTPATH_DATA_DIR`, absolute: forged models live in `<dataDir>/models`. */
  dataDir: string;
  /** Progress lines (TTY and not CI). */
  interactive: boolean;
}

export const BENCH_BATCHING_USAGE = `Usage: hotpath bench batching [--quick] [--json] [--out FILE] [--svg FILE]

Starts its own cluster (a private redis-server, the API and one worker as child processes), drives
it over HTTP with closed-loop concurrency levels and open-loop arrival rates, and compares
batching off (one job per model call) with batching on, same models and replicas, in one run.
Scenarios: generate on a forged "small" Llama (64 new tokens), embed on "tiny-embed", and the sim
backend at 5 + 0.5 x batch ms. Forges missing models into $HOTPATH_DATA_DIR/models (default .hotpath).

Options:
  --quick          fewer levels and shorter runs (under 3 minutes on 2 cores)
  --json           print {"results": [...]} to stdout (human-readable lines go to stderr)
  --out FILE       write {"results": [...]} (one object per scenario x mode x load level) to FILE
  --svg FILE       write a chart of p50 latency versus throughput
  --redis-url URL  use this Redis instead of starting a private redis-server

Narrowing (mostly for tests):
  --scenarios a,b  generate, embed, sim (default all)
  --modes a,b      off, on (default both, off first)
  --levels 1,4     closed-loop concurrency levels for every scenario
  --rates 50,100   open-loop rates (jobs/s) for every scenario; "none" for no open loop
  --duration-ms N  length of each load level`;

function numbers(raw: string, flag: string, max: number): number[] {
  const items = raw.split(',').map((s) => s.trim());
  return items.map((s) => {
    const n = Number(s);
    if (!/^\d+(\.\d+)?$/.test(s) || n <= 0 || n > max)
      throw new UsageError(`${flag}: "${s}" is not a number in (0, ${max}]`);
    return n;
  });
}

/** Parses the flags of `hotpath bench batching`; a bad one is a {@link UsageError}. */
export function parseBatchingBenchOptions(
  argv: readonly string[],
  env: { HOTPATH_DATA_DIR?: string; REDIS_URL?: string; CI?: string },
  isTTY: boolean,
  cwd: string,
): BatchingBenchOptions {
  const values = parseFlags(argv, {
    ...COMMON_BENCH_FLAGS,
    svg: { type: 'string' },
    scenarios: { type: 'string' },
    modes: { type: 'string' },
    levels: { type: 'string' },
    rates: { type: 'string' },
    'duration-ms': { type: 'string' },
  });
  const { abs, dataDir, interactive } = benchEnvironment(env, isTTY, cwd);
  const duration = values['duration-ms'];
  if (
    duration !== undefined &&
    (!/^\d+$/.test(duration) || Number(duration) < 100 || Number(duration) > 600_000)
  ) {
    throw new UsageError(`--duration-ms must be 100..600000, got "${duration}"`);
  }
  return {
    quick: values.quick,
    json: values.json,
    outFile: values.out ? abs(values.out) : undefined,
    svgFile: values.svg ? abs(values.svg) : undefined,
    scenarios: values.scenarios ? listFlag(values.scenarios, SCENARIOS, '--scenarios') : [...SCENARIOS],
    // Canonical order keeps off before on: open-loop rates derive from the off run.
    modes: values.modes ? listFlag(values.modes, MODES, '--modes') : [...MODES],
    levels: values.levels ? numbers(values.levels, '--levels', 4096).map(Math.round) : undefined,
    rates:
      values.rates === 'none' ? [] : values.rates ? numbers(values.rates, '--rates', 100_000) : undefined,
    durationMs: duration !== undefined ? Number(duration) : undefined,
    redisUrl: values['redis-url'] || undefined,
    dataDir,
    interactive,
  };
}
