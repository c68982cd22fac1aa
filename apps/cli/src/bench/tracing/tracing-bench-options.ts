import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../command';

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

function int(raw: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(`${flag} must be an integer in ${min}..${max}, got "${raw}"`);
  return Number(raw);
}

/** Parses the flags of `hotpath bench tracing`; a bad one is a {@link UsageError}. */
export function parseTracingBenchOptions(
  argv: readonly string[],
  env: { HOTPATH_DATA_DIR?: string; CI?: string },
  isTTY: boolean,
  cwd: string,
): TracingBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        'redis-url': { type: 'string' },
        concurrency: { type: 'string' },
        'duration-ms': { type: 'string' },
        rounds: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const quick = values.quick;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return {
    quick,
    jsonFile: values.json ? abs(values.json) : undefined,
    redisUrl: values['redis-url'] || undefined,
    concurrency: int(values.concurrency, '--concurrency', 32, 1, 4096),
    durationMs: int(values['duration-ms'], '--duration-ms', quick ? 5000 : 10_000, 200, 600_000),
    rounds: int(values.rounds, '--rounds', quick ? 1 : 3, 1, 20),
    dataDir: abs(env.HOTPATH_DATA_DIR || '.hotpath'),
    interactive: isTTY && !ci,
  };
}
