import type { ClusterConfigInput } from '@hotpath/contracts';
import { UsageError, parseFlags } from '@hotpath/cli-kit';
import { COMMON_BENCH_FLAGS, benchEnvironment, intFlag, listFlag } from './bench-flags';

/** The phases of `hotpath bench fairness`, in the order they run. */
export const FAIRNESS_PHASES = ['cost', 'latency', 'weights'] as const;
export type FairnessPhase = (typeof FAIRNESS_PHASES)[number];

/** Settings of `hotpath bench fairness`. */
export interface FairnessBenchOptions {
  quick: boolean;
  /** `--json`: the report on stdout (human lines on stderr). */
  json: boolean;
  /** `--out FILE`, absolute. */
  outFile: string | undefined;
  redisUrl: string | undefined;
  /** Length of the weighted phase (the target is stated over a minute). */
  weightSeconds: number;
  /** Length of each latency phase (B alone, B under A's flood). */
  latencySeconds: number;
  /** Length of each throughput run (fairness on, off; two rounds each). */
  throughputSeconds: number;
  dataDir: string;
  interactive: boolean;
  /** `--phases`: the phases to run (default all). */
  phases: FairnessPhase[];
}

export const BENCH_FAIRNESS_USAGE = `Usage: hotpath bench fairness [--quick] [--seconds N] [--phases LIST] [--json] [--out FILE] [--redis-url URL]

Starts its own API and worker on the sim backend (loopback, private redis-server when one is on
PATH) and measures fair sharing between tenants:
  1. latency: tenant B sends sequential jobs alone, then while tenant A floods the model with 10x
     its capacity; reports B's p50 both times (target: flood <= 1.5x alone) and B's 429s (target 0),
     and where B's jobs spent their time (median queue wait, scheduler wait, inference, and the rest:
     HTTP, admission and result delivery);
  2. weights: tenants of weight 2 and 1 both saturate a model for --seconds; reports the ratio of
     jobs served (target 2 +-10%);
  3. cost: saturation throughput of one tenant with fairness on and off (target: on >= 90% of off),
     and Redis commands per job for both (INFO commandstats).

  --seconds N    length of the weighted phase (default 60, --quick 15)
  --phases LIST  comma-separated phases to run: cost, latency, weights (default all)
  --quick        shorter phases (a smoke run, not the figures of record)
  --json         print the report as JSON to stdout (human-readable lines go to stderr)
  --out FILE     write the report as JSON to FILE
  --redis-url    use this Redis instead of a private one`;

/** Parses the flags of `hotpath bench fairness`; a bad one is a {@link UsageError}. */
export function parseFairnessBenchOptions(
  argv: readonly string[],
  env: { HOTPATH_DATA_DIR?: string; CI?: string },
  isTTY: boolean,
  cwd: string,
): FairnessBenchOptions {
  const values = parseFlags(argv, {
    ...COMMON_BENCH_FLAGS,
    seconds: { type: 'string' },
    phases: { type: 'string' },
  });
  const { abs, dataDir, interactive } = benchEnvironment(env, isTTY, cwd);
  const seconds = intFlag(values.seconds, '--seconds', 5, 3600);
  if (values.quick && seconds !== undefined && seconds > 60)
    throw new UsageError('--quick runs at most 60 s per phase; drop --quick for longer runs');
  return {
    quick: values.quick,
    json: values.json,
    outFile: values.out ? abs(values.out) : undefined,
    redisUrl: values['redis-url'],
    weightSeconds: seconds ?? (values.quick ? 15 : 60),
    latencySeconds: values.quick ? 6 : 15,
    throughputSeconds: values.quick ? 4 : 10,
    dataDir,
    interactive,
    phases:
      values.phases === undefined
        ? [...FAIRNESS_PHASES]
        : listFlag(values.phases, FAIRNESS_PHASES, '--phases'),
  };
}

/** Names of the bench's tenants, models and keys. */
export const FAIRNESS_BENCH = {
  /**
   * A sim model with a fixed capacity: `concurrency` BullMQ slots over as many sim replicas, each
   * job taking `base_ms` (8 x 1000 / 200 = 40 jobs/s), so no job waits inside the worker.
   */
  paced: { concurrency: 8, baseMs: 200 },
  models: { flood: 'fair-flood', weights: 'fair-weights', on: 'fair-sat-on', off: 'fair-sat-off' },
  tenants: { flooder: 'a', victim: 'b', heavy: 'heavy', light: 'light', solo: 'solo' },
} as const;

/** The capacity of a paced model in jobs per second. */
export function pacedCapacity(): number {
  return (FAIRNESS_BENCH.paced.concurrency * 1000) / FAIRNESS_BENCH.paced.baseMs;
}

/** `tenant:key` pairs for `HOTPATH_API_KEYS` (the key is the tenant's name prefixed). */
export function benchKeys(): { env: string; key: (tenant: string) => string } {
  const key = (tenant: string): string => `bench-key-${tenant}`;
  const env = Object.values(FAIRNESS_BENCH.tenants)
    .map((t) => `${t}:${key(t)}`)
    .join(',');
  return { env, key };
}

/** The cluster config of the bench: two paced models, two saturation models (fairness on/off). */
export function fairnessClusterConfig(): ClusterConfigInput {
  const { paced, models, tenants } = FAIRNESS_BENCH;
  const pacedModel = (name: string) => ({
    name,
    backend: 'sim' as const,
    tasks: ['generate' as const],
    shards: 1,
    concurrency: paced.concurrency,
    replicas: paced.concurrency,
    max_waiting: 1_000_000,
    batching: { enabled: false },
    cache: { enabled: false },
    sim: { base_ms: paced.baseMs, per_item_ms: 0 },
  });
  // The built-in `sim` model's shape (zero-time sim, 2 shards, 64 slots): throughput is the
  // cluster's own per-job cost, which is what fairness adds to.
  const satModel = (name: string, fair: boolean) => ({
    name,
    backend: 'sim' as const,
    tasks: ['generate' as const],
    shards: 2,
    concurrency: 64,
    max_waiting: 1_000_000,
    cache: { enabled: false },
    sim: { base_ms: 0, per_item_ms: 0 },
    fairness: { enabled: fair },
  });
  return {
    models: [
      pacedModel(models.flood),
      pacedModel(models.weights),
      satModel(models.on, true),
      satModel(models.off, false),
    ],
    tenants: {
      overrides: Object.fromEntries(
        Object.values(tenants).map((t) => [t, { weight: t === tenants.heavy ? 2 : 1 }]),
      ),
    },
  };
}
