/** Percentile by linear interpolation between closest ranks (the method numpy uses by default). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  if (sorted.length === 1) return sorted[0] ?? null;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
  max: number | null;
}

/** p50/p95/p99/mean/max of a set of samples (milliseconds in, milliseconds out). */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    mean: sorted.length ? sum / sorted.length : null,
    max: sorted.length ? (sorted[sorted.length - 1] ?? null) : null,
  };
}

/** Rounds for reports: 2 decimals, null stays null. */
export function round2(v: number | null): number | null {
  return v === null ? null : Math.round(v * 100) / 100;
}

/** Two-sided 95 % quantiles of Student's t for 1–30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Student's t at 97.5 % for `df` degrees of freedom (table to 30, then within 0.3 % of the exact value). */
export function tQuantile975(df: number): number {
  if (df < 1) return Number.NaN;
  return T975[Math.floor(df) - 1] ?? 1.96 + 2.4 / df;
}

/** A ratio's central estimate and its 95 % confidence interval. */
export interface RatioInterval {
  estimate: number;
  low: number;
  high: number;
}

/**
 * Geometric mean of paired ratios with a 95 % confidence interval (Student's t on their logarithms:
 * a ratio's errors multiply, so its logarithm is the scale on which they are symmetric). Null with
 * fewer than two ratios or any ratio that is not positive.
 */
export function ratioInterval95(ratios: readonly number[]): RatioInterval | null {
  if (ratios.length < 2 || ratios.some((r) => !(r > 0) || !Number.isFinite(r))) return null;
  const logs = ratios.map(Math.log);
  const n = logs.length;
  const mean = logs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  return { estimate: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half) };
}
