import { UsageError, parseFlags } from '@hotpath/cli-kit';
import { benchEnvironment, COMMON_BENCH_FLAGS, intFlag } from '../bench-flags';

/** Model presets the cache bench can run on (`small` is what the targets are stated for; `tiny` is for tests). */
export type CacheBenchPreset = 'small' | 'tiny';

/** Everything `hotpath bench cache` needs, parsed once. */
export interface CacheBenchOptions {
  quick: boolean;
  /** `--json`: the report on stdout (human lines on stderr). */
  json: boolean;
  /** `--out FILE`, absolute. */
  outFile: string | undefined;
  redisUrl: string | undefined;
  preset: CacheBenchPreset;
  /** Distinct cold requests of the miss phase. */
  misses: number;
  /** Cache hits measured. */
  hits: number;
  /** Identical concurrent requests of the coalescing check. */
  concurrent: number;
  /** Cold/warm prompt pairs of the prefix TTFT check. */
  pairs: number;
  /** New tokens of the miss and coalescing requests. */
  maxTokens: number;
  /** `HOTPATH_DATA_DIR`, absolute: forged models live in `<dataDir>/models`. */
  dataDir: string;
  interactive: boolean;
}

export const BENCH_CACHE_USAGE = `Usage: hotpath bench cache [--quick] [--json] [--out FILE]

Starts its own cluster (a private redis-server, the API and one worker with one replica of a forged
"small" Llama) and measures the caches:
  (a) a result-cache hit's latency (server side from the API's request-duration histogram, and
      client side) versus a miss generating 64 tokens;
  (b) 50 identical concurrent deterministic requests: model executions counted from the worker's
      hotpath_jobs_total{outcome="completed"};
  (c) time to first token of a prompt whose first 256+ tokens were seen before (prefix KV cache)
      versus the same kind of prompt cold (worker TTFT histogram, and client side over SSE).

Options:
  --quick          fewer samples (about a minute on 2 cores)
  --json           print the results as JSON to stdout (human-readable lines go to stderr)
  --out FILE       write the results as JSON to FILE
  --redis-url URL  use this Redis instead of starting a private redis-server

Narrowing (mostly for tests):
  --preset P       small (default) or tiny
  --misses N  --hits N  --concurrent N  --pairs N  --max-tokens N`;

/** Parses the flags of `hotpath bench cache`; a bad one is a {@link UsageError}. */
export function parseCacheBenchOptions(
  argv: readonly string[],
  env: { HOTPATH_DATA_DIR?: string; CI?: string },
  isTTY: boolean,
  cwd: string,
): CacheBenchOptions {
  const values = parseFlags(argv, {
    ...COMMON_BENCH_FLAGS,
    preset: { type: 'string' },
    misses: { type: 'string' },
    hits: { type: 'string' },
    concurrent: { type: 'string' },
    pairs: { type: 'string' },
    'max-tokens': { type: 'string' },
  });
  const preset = values.preset ?? 'small';
  if (preset !== 'small' && preset !== 'tiny')
    throw new UsageError(`--preset: small or tiny, got "${preset}"`);
  const quick = values.quick;
  const { abs, dataDir, interactive } = benchEnvironment(env, isTTY, cwd);
  return {
    quick,
    json: values.json,
    outFile: values.out ? abs(values.out) : undefined,
    redisUrl: values['redis-url'] || undefined,
    preset,
    misses: intFlag(values.misses, '--misses', 1, 1000) ?? (quick ? 5 : 10),
    hits: intFlag(values.hits, '--hits', 1, 100_000) ?? (quick ? 300 : 1000),
    concurrent: intFlag(values.concurrent, '--concurrent', 2, 1000) ?? 50,
    pairs: intFlag(values.pairs, '--pairs', 1, 100) ?? (quick ? 3 : 6),
    maxTokens: intFlag(values['max-tokens'], '--max-tokens', 1, 1024) ?? 64,
    dataDir,
    interactive,
  };
}
