import type { LoadResult } from './load-generator';
import type { BatchingMode, Scenario } from './bench-plan';
import { levelFigures, type LevelFigures, type LoadLevel } from './level-figures';
import { round2 } from './stats';
import type { ChartSeries } from './svg-chart';

/** One line of `hotpath bench batching --json`: one scenario × mode × load level. */
export interface BenchRow extends Omit<LevelFigures, 'ttft_p99_ms' | 'elapsed_s'> {
  scenario: Scenario;
  mode: BatchingMode;
  /** From the worker's `hotpath_batch_size` histogram over this level; null without samples. */
  mean_batch_size: number | null;
}

/** What a level measured besides the client-side samples. */
export interface LevelContext {
  scenario: Scenario;
  mode: BatchingMode;
  load: LoadLevel;
  /** Whether the scenario generates tokens (tokens_per_s applies). */
  generates: boolean;
  /** Deltas of `hotpath_batch_size_sum` / `_count` for the scenario's model over the level. */
  batch: { sum: number; count: number } | undefined;
}

/** Turns a load level's samples into a result row (pure). */
export function toRow(result: LoadResult, ctx: LevelContext): BenchRow {
  const f = levelFigures(result, ctx.load, ctx.generates);
  // Field order is the JSON output's.
  return {
    scenario: ctx.scenario,
    mode: ctx.mode,
    concurrency: f.concurrency,
    rate: f.rate,
    throughput: f.throughput,
    tokens_per_s: f.tokens_per_s,
    p50_ms: f.p50_ms,
    p95_ms: f.p95_ms,
    p99_ms: f.p99_ms,
    ttft_p50_ms: f.ttft_p50_ms,
    mean_batch_size: ctx.batch && ctx.batch.count > 0 ? round2(ctx.batch.sum / ctx.batch.count) : null,
    requests: f.requests,
    errors: f.errors,
  };
}

/** The highest throughput among the rows of one scenario and mode (its saturation), or undefined. */
export function saturation(
  rows: readonly BenchRow[],
  scenario: Scenario,
  mode: BatchingMode,
): BenchRow | undefined {
  return rows
    .filter((r) => r.scenario === scenario && r.mode === mode)
    .reduce<BenchRow | undefined>(
      (best, r) => (!best || r.throughput > best.throughput ? r : best),
      undefined,
    );
}

const cell = (v: number | null): string => (v === null ? '-' : String(v));

/** A fixed-width text table of the rows, one line each, with a header. */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = [
    'scenario',
    'mode',
    'load',
    'jobs/s',
    'tok/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'ttft p50',
    'batch',
    'errors',
  ];
  const lines = rows.map((r) => [
    r.scenario,
    r.mode,
    r.concurrency !== null ? `c=${r.concurrency}` : `r=${r.rate ?? '?'}/s`,
    cell(r.throughput),
    cell(r.tokens_per_s),
    cell(r.p50_ms),
    cell(r.p95_ms),
    cell(r.p99_ms),
    cell(r.ttft_p50_ms),
    cell(r.mean_batch_size),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cols: readonly string[]): string =>
    cols
      .map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}

/** Ratios worth reading at a glance: saturation throughput on/off per scenario, and c=1 p50 on/off. */
export function summaryLines(rows: readonly BenchRow[]): string[] {
  const out: string[] = [];
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  for (const s of scenarios) {
    const off = saturation(rows, s, 'off');
    const on = saturation(rows, s, 'on');
    if (off && on && off.throughput > 0) {
      const metric = s === 'generate' ? 'tokens/s' : 'jobs/s';
      const a = s === 'generate' ? (on.tokens_per_s ?? 0) : on.throughput;
      const b = s === 'generate' ? (off.tokens_per_s ?? 0) : off.throughput;
      if (b > 0) out.push(`${s}: saturation ${metric} on/off = ${(a / b).toFixed(2)}x (${a} vs ${b})`);
    }
    const c1 = (m: BatchingMode): BenchRow | undefined =>
      rows.find((r) => r.scenario === s && r.mode === m && r.concurrency === 1);
    const p50on = c1('on')?.p50_ms;
    const p50off = c1('off')?.p50_ms;
    if (p50on != null && p50off != null && p50off > 0) {
      out.push(`${s}: concurrency-1 p50 on/off = ${(p50on / p50off).toFixed(2)} (${p50on} vs ${p50off} ms)`);
    }
  }
  return out;
}

/** Latency (p50) versus throughput, one line per scenario × mode, closed and open loop together. */
export function chartSeries(rows: readonly BenchRow[]): ChartSeries[] {
  const keys = [...new Set(rows.map((r) => `${r.scenario} ${r.mode}`))];
  return keys.map((name) => ({
    name: `${name.replace(' ', ' batching ')}`,
    points: rows
      .filter((r) => `${r.scenario} ${r.mode}` === name && r.p50_ms !== null)
      .map((r) => ({ x: r.throughput, y: r.p50_ms ?? 0 })),
  }));
}
