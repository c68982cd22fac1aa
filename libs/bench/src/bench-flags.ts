import { isAbsolute, resolve } from 'node:path';
import { UsageError, type FlagOptions } from '@hotpath/cli-kit';

/** The report flags of every `hotpath bench …` command: `--json` (stdout), `--out FILE`. */
export const REPORT_FLAGS = {
  json: { type: 'boolean', default: false },
  out: { type: 'string' },
} as const satisfies FlagOptions;

/** The flags every cluster-starting `hotpath bench …` command takes: the report flags, `--quick`, `--redis-url URL`. */
export const COMMON_BENCH_FLAGS = {
  ...REPORT_FLAGS,
  quick: { type: 'boolean', default: false },
  'redis-url': { type: 'string' },
} as const satisfies FlagOptions;

/**
 * An optional whole-number flag within `min..max`: `undefined` when absent, else the number;
 * anything else is a {@link UsageError} `<flag> must be an integer in <min>..<max>, got "<raw>"`.
 */
export function intFlag(raw: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(`${flag} must be an integer in ${min}..${max}, got "${raw}"`);
  return Number(raw);
}

/**
 * A comma-separated list of values from `allowed`, returned in `allowed`'s (canonical) order;
 * an empty list or an unknown value is a {@link UsageError}.
 */
export function listFlag<T extends string>(raw: string, allowed: readonly T[], flag: string): T[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`${flag} needs at least one value`);
  for (const it of items) {
    if (!(allowed as readonly string[]).includes(it))
      throw new UsageError(`${flag}: unknown value "${it}" (${allowed.join(', ')})`);
  }
  return allowed.filter((a) => items.includes(a));
}

/** Where a bench runs: paths resolve against its working directory, progress shows on a TTY outside CI. */
export interface BenchEnvironment {
  /** `p` made absolute against the working directory. */
  abs(p: string): string;
  /** `HOTPATH_DATA_DIR` (default `.hotpath`), absolute: forged models live in `<dataDir>/models`. */
  dataDir: string;
  /** Progress lines (TTY and not CI). */
  interactive: boolean;
}

/** Builds the {@link BenchEnvironment} from the process environment, TTY state and working directory. */
export function benchEnvironment(
  env: { HOTPATH_DATA_DIR?: string; CI?: string },
  isTTY: boolean,
  cwd: string,
): BenchEnvironment {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return { abs, dataDir: abs(env.HOTPATH_DATA_DIR || '.hotpath'), interactive: isTTY && !ci };
}
