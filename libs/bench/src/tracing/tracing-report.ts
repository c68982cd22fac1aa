import { ratioInterval95, round2, summarize, type RatioInterval } from '../stats';
import type { LoadResult } from '../load-generator';

/** What one mode served in one round: the sum of its measured windows. */
export interface TracingRun {
  mode: 'off' | 'on';
  round: number;
  requests: number;
  errors: number;
  throughput: number;
  p50_ms: number | null;
  p99_ms: number | null;
  /** Spans the OTLP receiver got from this mode's cluster, warm-up and shutdown flush included (0 when off). */
  spans_received: number;
  otlp_requests: number;
  /** CPU time of the API and the worker per completed job during the run (less noisy than jobs/s). */
  cpu_ms_per_job: number | null;
}

/** The JSON document `hotpath bench tracing --json` writes. */
export interface TracingReport {
  scenario: 'tracing';
  backend: 'sim';
  concurrency: number;
  /** Measured load per mode and round. */
  duration_ms: number;
  window_ms: number;
  pairs_per_round: number;
  warmup_ms: number;
  runs: TracingRun[];
  throughput_off: number | null;
  throughput_on: number | null;
  /** Mean throughput with tracing on ÷ off. */
  ratio: number | null;
  /** on ÷ off throughput of each pair of adjacent windows, in the order they ran. */
  pair_ratios: number[];
  /** Median of {@link pair_ratios}: adjacent windows share the machine's mood, so drift hurts less. */
  paired_ratio_median: number | null;
  /**
   * Geometric mean of {@link pair_ratios} with its 95 % confidence interval: how far this one run's
   * verdict can be trusted on a noisy machine (more `--rounds` narrow it).
   */
  pair_ratio_ci95: RatioInterval | null;
  cpu_ms_per_job_off: number | null;
  cpu_ms_per_job_on: number | null;
  /** Mean CPU per job off ÷ on: the throughput ratio a CPU-bound cluster would see. */
  cpu_ratio: number | null;
  target: { name: string; target: string; value: number | null; met: boolean };
}

/** One run's row from the load generator's samples and the receiver's counters. */
export function tracingRun(
  mode: 'off' | 'on',
  round: number,
  result: LoadResult,
  sink: { spans: number; requests: number; cpuSeconds: number },
): TracingRun {
  const ok = result.samples.filter((s) => s.ok);
  const lat = summarize(ok.map((s) => s.latencyMs));
  return {
    mode,
    round,
    requests: result.samples.length,
    errors: result.samples.length - ok.length,
    throughput: round2(result.elapsedMs > 0 ? (ok.length * 1000) / result.elapsedMs : 0) ?? 0,
    p50_ms: round2(lat.p50),
    p99_ms: round2(lat.p99),
    spans_received: sink.spans,
    otlp_requests: sink.requests,
    cpu_ms_per_job: ok.length > 0 ? round2((sink.cpuSeconds * 1000) / ok.length) : null,
  };
}

/** How a report's runs were measured. */
export interface TracingMethod {
  concurrency: number;
  durationMs: number;
  windowMs: number;
  pairs: number;
  warmupMs: number;
}

/** Means per mode and the on/off ratio against the target (within 10%). */
export function buildTracingReport(
  runs: TracingRun[],
  pairRatios: number[],
  method: TracingMethod,
): TracingReport {
  /** Mean of `value` over one mode's rounds, rounds without a value left out. */
  const meanOf = (mode: 'off' | 'on', value: (r: TracingRun) => number | null): number | null => {
    const xs = runs
      .filter((r) => r.mode === mode)
      .map(value)
      .filter((v): v is number => v !== null);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  const off = meanOf('off', (r) => r.throughput);
  const on = meanOf('on', (r) => r.throughput);
  const ratio = off !== null && on !== null && off > 0 ? on / off : null;
  const cpuOff = meanOf('off', (r) => r.cpu_ms_per_job);
  const cpuOn = meanOf('on', (r) => r.cpu_ms_per_job);
  const round3 = (v: number): number => Math.round(v * 1000) / 1000;
  const r3 = (v: number | null): number | null => (v === null ? null : round3(v));
  const ci = ratioInterval95(pairRatios);
  return {
    scenario: 'tracing',
    backend: 'sim',
    concurrency: method.concurrency,
    duration_ms: method.durationMs,
    window_ms: method.windowMs,
    pairs_per_round: method.pairs,
    warmup_ms: method.warmupMs,
    runs,
    throughput_off: round2(off),
    throughput_on: round2(on),
    ratio: r3(ratio),
    pair_ratios: pairRatios.map((x) => r3(x) ?? 0),
    paired_ratio_median: r3(summarize(pairRatios).p50),
    pair_ratio_ci95: ci && { estimate: round3(ci.estimate), low: round3(ci.low), high: round3(ci.high) },
    cpu_ms_per_job_off: round2(cpuOff),
    cpu_ms_per_job_on: round2(cpuOn),
    cpu_ratio: r3(cpuOff !== null && cpuOn !== null && cpuOn > 0 ? cpuOff / cpuOn : null),
    target: {
      name: 'throughput with tracing at 100% sampling / tracing off',
      target: '>= 0.9',
      value: ratio === null ? null : Math.round(ratio * 1000) / 1000,
      met: ratio !== null && ratio >= 0.9,
    },
  };
}

/** The printed table of a report. */
export function formatTracingReport(r: TracingReport): string {
  const head = 'mode  round  requests  errors  jobs/s     p50 ms   p99 ms   spans received  cpu ms/job';
  const rows = r.runs.map(
    (x) =>
      `${x.mode.padEnd(4)}  ${String(x.round).padStart(5)}  ${String(x.requests).padStart(8)}  ${String(x.errors).padStart(6)}  ` +
      `${String(x.throughput).padStart(8)}  ${String(x.p50_ms ?? '-').padStart(7)}  ${String(x.p99_ms ?? '-').padStart(7)}  ${String(x.spans_received).padStart(14)}  ${String(x.cpu_ms_per_job ?? '-').padStart(10)}`,
  );
  const spread = r.pair_ratios.length ? `${Math.min(...r.pair_ratios)} – ${Math.max(...r.pair_ratios)}` : '-';
  return [
    `sim (zero latency), concurrency ${r.concurrency}; per round and mode ${r.pairs_per_round} windows of ${r.window_ms} ms, ` +
      `alternating with the other mode, after ${r.warmup_ms} ms of warm-up`,
    head,
    ...rows,
    '',
    `throughput off ${r.throughput_off ?? '-'} jobs/s, on ${r.throughput_on ?? '-'} jobs/s, on/off = ${r.ratio ?? '-'}`,
    `adjacent window pairs: ${r.pair_ratios.length}, on/off median ${r.paired_ratio_median ?? '-'}, range ${spread}`,
    `  geometric mean ${r.pair_ratio_ci95 ? `${r.pair_ratio_ci95.estimate}, 95% CI ${r.pair_ratio_ci95.low} – ${r.pair_ratio_ci95.high}` : '-'}`,
    `CPU per job (API + worker) off ${r.cpu_ms_per_job_off ?? '-'} ms, on ${r.cpu_ms_per_job_on ?? '-'} ms, off/on = ${r.cpu_ratio ?? '-'}`,
    `${r.target.met ? 'MET ' : 'MISS'}  ${r.target.name}: ${r.target.value ?? '-'} (target ${r.target.target})`,
  ].join('\n');
}
