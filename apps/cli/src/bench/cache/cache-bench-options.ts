import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../command';

/** Model presets the cache bench can run on (`small` is what the targets are stated for; `tiny` is for tests). */
export type CacheBenchPreset = 'small' | 'tiny';

/** Everything `hotpath bench cache` needs, parsed once. */
export interface CacheBenchOptions {
  quick: boolean;
  jsonFile: string | undefined;
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

export const BENCH_CACHE_USAGE = `Usage: hotpath bench cache [--quick] [--json FILE]

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
  --json FILE      write the results as JSON
  --redis-url URL  use this Redis instead of starting a private redis-server

Narrowing (mostly for tests):
  --preset P       small (default) or tiny
  --misses N  --hits N  --concurrent N  --pairs N  --max-tokens N`;

function count(raw: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(`${flag} must be an integer in ${min}..${max}, got "${raw}"`);
  return Number(raw);
}

/** Parses the flags of `hotpath bench cache`; a bad one is a {@link UsageError}. */
export function parseCacheBenchOptions(
  argv: readonly string[],
  env: { HOTPATH_DATA_DIR?: string; CI?: string },
  isTTY: boolean,
  cwd: string,
): CacheBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        'redis-url': { type: 'string' },
        preset: { type: 'string' },
        misses: { type: 'string' },
        hits: { type: 'string' },
        concurrent: { type: 'string' },
        pairs: { type: 'string' },
        'max-tokens': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const preset = values.preset ?? 'small';
  if (preset !== 'small' && preset !== 'tiny')
    throw new UsageError(`--preset: small or tiny, got "${preset}"`);
  const quick = values.quick;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return {
    quick,
    jsonFile: values.json ? abs(values.json) : undefined,
    redisUrl: values['redis-url'] || undefined,
    preset,
    misses: count(values.misses, '--misses', quick ? 5 : 10, 1, 1000),
    hits: count(values.hits, '--hits', quick ? 300 : 1000, 1, 100_000),
    concurrent: count(values.concurrent, '--concurrent', 50, 2, 1000),
    pairs: count(values.pairs, '--pairs', quick ? 3 : 6, 1, 100),
    maxTokens: count(values['max-tokens'], '--max-tokens', 64, 1, 1024),
    dataDir: abs(env.HOTPATH_DATA_DIR || '.hotpath'),
    interactive: isTTY && !ci,
  };
}
