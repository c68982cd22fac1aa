import { UsageError, parseFlags } from '@hotpath/cli-kit';
import { benchEnvironment, COMMON_BENCH_FLAGS, intFlag } from '../bench-flags';

/** Everything `hotpath bench redis-cost` needs, parsed once. */
export interface RedisCostOptions {
  quick: boolean;
  /** `--json`: the report on stdout (human lines on stderr). */
  json: boolean;
  /** `--out FILE`, absolute. */
  outFile: string | undefined;
  redisUrl: string | undefined;
  /** Start a local 3-master + 3-replica Redis Cluster instead of one redis-server. */
  redisCluster: boolean;
  /** `HOTPATH_REDIS_WAIT_REPLICAS` for the cluster's processes (needs `--redis-cluster`). */
  waitReplicas: number;
  /** Jobs per scenario. */
  jobs: number;
  /** Jobs in flight at once. */
  concurrency: number;
  maxTokens: number;
  /** A repository checkout whose built apps to measure instead of this CLI's (before/after). */
  appsFrom: string | undefined;
  dataDir: string;
  interactive: boolean;
}

export const BENCH_REDIS_COST_USAGE = `Usage: hotpath bench redis-cost [--quick] [--json] [--out FILE] [--redis-cluster [--wait-replicas N]]

Starts its own cluster (a private redis-server, or with --redis-cluster a local Redis Cluster of
3 masters and 3 replicas; the API and one worker serving a "sim" model) and counts the Redis
commands each kind of job costs, from INFO commandstats (commands run inside Lua scripts included),
minus what the idle cluster issues in the same time (BullMQ's blocking pops, lock renewals):
  plain          POST /v1/jobs (cache bypass, Prefer: wait) of a 16-token generation
  streamed       the same, followed over SSE (GET /v1/jobs/{id}/events)
  streamed-post  submitted and followed in one request (POST with Accept: text/event-stream)
  hit            a result-cache hit
Also reports Redis CPU (usec) per job and the time to a 202 (the cost of --wait-replicas).

Options:
  --quick            fewer jobs
  --json             print the results as JSON to stdout (human-readable lines go to stderr)
  --out FILE         write the results as JSON to FILE
  --redis-url URL    use this (standalone) Redis instead of starting a private one
  --redis-cluster    start a local Redis Cluster (redis-server and redis-cli on PATH)
  --wait-replicas N  HOTPATH_REDIS_WAIT_REPLICAS for the run (with --redis-cluster)
  --jobs N  --concurrency N  --max-tokens N
  --apps-from DIR    measure the apps built in another checkout (before/after comparisons)`;

/** Parses the flags of `hotpath bench redis-cost`; a bad one is a {@link UsageError}. */
export function parseRedisCostOptions(
  argv: readonly string[],
  env: { HOTPATH_DATA_DIR?: string; CI?: string },
  isTTY: boolean,
  cwd: string,
): RedisCostOptions {
  const values = parseFlags(argv, {
    ...COMMON_BENCH_FLAGS,
    'redis-cluster': { type: 'boolean', default: false },
    'wait-replicas': { type: 'string' },
    jobs: { type: 'string' },
    concurrency: { type: 'string' },
    'max-tokens': { type: 'string' },
    'apps-from': { type: 'string' },
  });
  const { abs, dataDir, interactive } = benchEnvironment(env, isTTY, cwd);
  const waitReplicas = intFlag(values['wait-replicas'], '--wait-replicas', 0, 16) ?? 0;
  if (waitReplicas > 0 && !values['redis-cluster'])
    throw new UsageError('--wait-replicas needs --redis-cluster (a Redis with replicas)');
  if (values['redis-cluster'] && values['redis-url'])
    throw new UsageError('--redis-cluster and --redis-url exclude each other');
  return {
    quick: values.quick,
    json: values.json,
    outFile: values.out ? abs(values.out) : undefined,
    redisUrl: values['redis-url'] || undefined,
    redisCluster: values['redis-cluster'],
    waitReplicas,
    jobs: intFlag(values.jobs, '--jobs', 1, 100_000) ?? (values.quick ? 40 : 200),
    concurrency: intFlag(values.concurrency, '--concurrency', 1, 256) ?? 4,
    maxTokens: intFlag(values['max-tokens'], '--max-tokens', 1, 4096) ?? 16,
    appsFrom: values['apps-from'] ? abs(values['apps-from']) : undefined,
    dataDir,
    interactive,
  };
}
