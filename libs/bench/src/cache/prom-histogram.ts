/** Cumulative bucket counts of one Prometheus histogram (summed over matching series), by `le`. */
export interface HistogramSnapshot {
  /** `[upper bound, cumulative count]`, ascending; the last bound is `Infinity`. */
  buckets: [number, number][];
  sum: number;
  count: number;
}

/**
 * Reads histogram `name` from a Prometheus text exposition: every series whose labels include all
 * of `labels` is summed bucket by bucket.
 */
export function readHistogram(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): HistogramSnapshot {
  const byLe = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, metric, labelText = '', valueText = ''] = m;
    if (metric !== `${name}_bucket` && metric !== `${name}_sum` && metric !== `${name}_count`) continue;
    const have = new Map<string, string>();
    for (const l of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      have.set(l[1] as string, l[2] ?? '');
    if (!Object.entries(labels).every(([k, v]) => have.get(k) === v)) continue;
    const value = Number(valueText);
    if (!Number.isFinite(value)) continue;
    if (metric.endsWith('_sum')) sum += value;
    else if (metric.endsWith('_count')) count += value;
    else {
      const leText = have.get('le');
      const le = leText === '+Inf' ? Infinity : Number(leText);
      if (!Number.isNaN(le)) byLe.set(le, (byLe.get(le) ?? 0) + value);
    }
  }
  return { buckets: [...byLe.entries()].sort((a, b) => a[0] - b[0]), sum, count };
}

/** `after − before`, bucket by bucket (what happened between two scrapes). */
export function histogramDelta(before: HistogramSnapshot, after: HistogramSnapshot): HistogramSnapshot {
  const prev = new Map(before.buckets);
  return {
    buckets: after.buckets.map(([le, n]) => [le, n - (prev.get(le) ?? 0)]),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/**
 * The `q` quantile (0..1) of a histogram, interpolated linearly inside the bucket that holds it, as
 * PromQL's `histogram_quantile` does; null when empty. A quantile in the `+Inf` bucket returns the
 * highest finite bound.
 */
export function histogramQuantile(h: HistogramSnapshot, q: number): number | null {
  const total = h.buckets[h.buckets.length - 1]?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, n] of h.buckets) {
    if (n >= rank) {
      if (le === Infinity) return prevLe;
      const inBucket = n - prevCount;
      return inBucket > 0 ? prevLe + (le - prevLe) * ((rank - prevCount) / inBucket) : le;
    }
    prevLe = le;
    prevCount = n;
  }
  return prevLe;
}
