import { benchEnvironment, COMMON_BENCH_FLAGS, intFlag, parseBenchFlags } from '../bench-flags';

/** Everything `hotpath bench tracing` needs, parsed once. */
export interface TracingBenchOptions {
  quick: boolean;
  jsonFile: string | undefined;
  redisUrl: string | undefined;
  /** Closed-loop clients. */
  concurrency: number;
  /** Length of each measured run. */
  durationMs: number;
  /** Off/on pairs, alternating (off first), so drift on a shared machine hits both modes. */
  rounds: number;
  dataDir: string;
  interactive: boolean;
}

export const BENCH_TRACING_USAGE = `Usage: hotpath bench tracing [--quick] [--json FILE]

Starts its own cluster (a private redis-server, the API and one worker) serving the sim backend at
zero latency, and measures closed-loop throughput with tracing off and with tracing on at 100%
sampling (OTEL_TRACES_SAMPLER=always_on, OTLP/HTTP protobuf to a small receiver inside the bench).
The modes alternate, each on a freshly started cluster with the same config; the report gives the
on/off throughput ratio (target: within 10%).

Options:
  --quick           one round of shorter runs (about 30 s)
  --json FILE       write the results as JSON
  --redis-url URL   use this Redis instead of starting a private redis-server

Narrowing (mostly for tests):
  --concurrency N   closed-loop clients (default 32)
  --duration-ms N   length of each run (default 5000 quick, 10000 full)
  --rounds N        off/on pairs (default 1 quick, 3 full)`;

/** Parses the flags of `hotpath bench tracing`; a bad one is a {@link UsageError}. */
export function parseTracingBenchOptions(
  argv: readonly string[],
  env: { HOTPATH_DATA_DIR?: string; CI?: string },
  isTTY: boolean,
  cwd: string,
): TracingBenchOptions {
  const values = parseBenchFlags(argv, {
    ...COMMON_BENCH_FLAGS,
    concurrency: { type: 'string' },
    'duration-ms': { type: 'string' },
    rounds: { type: 'string' },
  });
  const quick = values.quick;
  const { abs, dataDir, interactive } = benchEnvironment(env, isTTY, cwd);
  return {
    quick,
    jsonFile: values.json ? abs(values.json) : undefined,
    redisUrl: values['redis-url'] || undefined,
    concurrency: intFlag(values.concurrency, '--concurrency', 1, 4096) ?? 32,
    durationMs: intFlag(values['duration-ms'], '--duration-ms', 200, 600_000) ?? (quick ? 5000 : 10_000),
    rounds: intFlag(values.rounds, '--rounds', 1, 20) ?? (quick ? 1 : 3),
    dataDir,
    interactive,
  };
}
