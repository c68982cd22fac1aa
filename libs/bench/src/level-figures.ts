import type { LoadResult } from './load-generator';
import { round2, summarize } from './stats';

/** A load level: a closed loop at fixed concurrency or an open loop at a fixed arrival rate. */
export type LoadLevel = { concurrency: number } | { rate: number };

/** The client-side figures every bench row reports for one load level (the JSON field names). */
export interface LevelFigures {
  /** Closed loop: requests in flight; null for an open-loop level. */
  concurrency: number | null;
  /** Open loop: offered arrivals per second; null for a closed-loop level. */
  rate: number | null;
  /** Completed requests per second. */
  throughput: number;
  /** Generated tokens per second when the workload generates, else null. */
  tokens_per_s: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  /** Time to first token, when the requests report it; else null. */
  ttft_p50_ms: number | null;
  ttft_p99_ms: number | null;
  /** Requests sent and those that did not complete. */
  requests: number;
  errors: number;
  /** First send to last completion. */
  elapsed_s: number;
}

/**
 * Turns a load level's samples into its figures (pure), rounded to 2 decimals.
 * Failed requests count as errors, not latency.
 */
export function levelFigures(result: LoadResult, load: LoadLevel, generates: boolean): LevelFigures {
  const ok = result.samples.filter((s) => s.ok);
  const seconds = result.elapsedMs / 1000;
  const lat = summarize(ok.map((s) => s.latencyMs));
  const ttft = summarize(ok.map((s) => s.ttftMs).filter((v): v is number => typeof v === 'number'));
  const tokens = ok.reduce((sum, s) => sum + (s.tokens ?? 0), 0);
  return {
    concurrency: 'concurrency' in load ? load.concurrency : null,
    rate: 'rate' in load ? load.rate : null,
    throughput: round2(seconds > 0 ? ok.length / seconds : 0) ?? 0,
    tokens_per_s: generates ? round2(seconds > 0 ? tokens / seconds : 0) : null,
    p50_ms: round2(lat.p50),
    p95_ms: round2(lat.p95),
    p99_ms: round2(lat.p99),
    ttft_p50_ms: round2(ttft.p50),
    ttft_p99_ms: round2(ttft.p99),
    requests: result.samples.length,
    errors: result.samples.length - ok.length,
    elapsed_s: round2(seconds) ?? 0,
  };
}
