import { parseFlags } from '@hotpath/cli-kit';
import { benchEnvironment, COMMON_BENCH_FLAGS, intFlag } from '../bench-flags';

/** Everything `hotpath bench tracing` needs, parsed once. */
export interface TracingBenchOptions {
  quick: boolean;
  /** `--json`: the report on stdout (human lines on stderr). */
  json: boolean;
  /** `--out FILE`, absolute. */
  outFile: string | undefined;
  redisUrl: string | undefined;
  /** Closed-loop clients. */
  concurrency: number;
  /** Measured load per mode and round, cut into windows of `windowMs`. */
  durationMs: number;
  /** Length of one measured window; off and on windows alternate (off-on, on-off, ...). */
  windowMs: number;
  /** Off/on window pairs per round: `durationMs / windowMs`, at least one. */
  pairs: number;
  /** Load each cluster serves before anything is measured, so both run JIT-compiled code. */
  warmupMs: number;
  /** Rounds, each on a fresh pair of clusters (one tracing off, one on). */
  rounds: number;
  dataDir: string;
  interactive: boolean;
}

export const BENCH_TRACING_USAGE = `Usage: hotpath bench tracing [--quick] [--json] [--out FILE]

Starts its own Redis (a private redis-server) and two clusters (API + one worker each) serving the
sim backend at zero latency: one with tracing off, one with tracing on at 100% sampling
(OTEL_TRACES_SAMPLER=always_on, OTLP/HTTP protobuf to a small receiver inside the bench). Both are
warmed up, then loaded in turn, in short alternating windows (off-on, on-off, ...), so that a
machine whose speed drifts from one minute to the next slows both modes alike. The report gives
the on/off throughput ratio (target: within 10%) and, over the adjacent window pairs, a 95%
confidence interval for it: on a noisy machine, add rounds until the interval is narrow enough.

Options:
  --quick           one round of shorter runs (about 20 s; the full bench takes about 2.2 min)
  --json            print the results as JSON to stdout (human-readable lines go to stderr)
  --out FILE        write the results as JSON to FILE
  --redis-url URL   use this Redis instead of starting a private redis-server

Measuring longer, or narrower (all but --rounds mostly for tests):
  --rounds N        rounds, each on freshly started clusters (default 1 quick, 3 full; 9 is about 7 min)
  --concurrency N   closed-loop clients (default 32)
  --duration-ms N   measured load per mode and round (default 6000 quick, 16000 full)
  --window-ms N     length of one window (default 2000; capped at --duration-ms)
  --warmup-ms N     load per cluster before measuring (default 3000 quick, 5000 full)`;

/** Parses the flags of `hotpath bench tracing`; a bad one is a {@link UsageError}. */
export function parseTracingBenchOptions(
  argv: readonly string[],
  env: { HOTPATH_DATA_DIR?: string; CI?: string },
  isTTY: boolean,
  cwd: string,
): TracingBenchOptions {
  const values = parseFlags(argv, {
    ...COMMON_BENCH_FLAGS,
    concurrency: { type: 'string' },
    'duration-ms': { type: 'string' },
    'window-ms': { type: 'string' },
    'warmup-ms': { type: 'string' },
    rounds: { type: 'string' },
  });
  const quick = values.quick;
  const { abs, dataDir, interactive } = benchEnvironment(env, isTTY, cwd);
  const durationMs = intFlag(values['duration-ms'], '--duration-ms', 200, 600_000) ?? (quick ? 6000 : 16_000);
  const windowMs = Math.min(durationMs, intFlag(values['window-ms'], '--window-ms', 200, 600_000) ?? 2000);
  return {
    quick,
    json: values.json,
    outFile: values.out ? abs(values.out) : undefined,
    redisUrl: values['redis-url'] || undefined,
    concurrency: intFlag(values.concurrency, '--concurrency', 1, 4096) ?? 32,
    durationMs,
    windowMs,
    pairs: Math.max(1, Math.round(durationMs / windowMs)),
    warmupMs: intFlag(values['warmup-ms'], '--warmup-ms', 0, 600_000) ?? (quick ? 3000 : 5000),
    rounds: intFlag(values.rounds, '--rounds', 1, 20) ?? (quick ? 1 : 3),
    dataDir,
    interactive,
  };
}
