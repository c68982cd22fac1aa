import { round2, summarize } from '../stats';
import type { Submitted } from './job-http';

/** One TTFT measurement of the prefix check. */
export interface TtftSample {
  kind: 'cold' | 'warm';
  promptTokens: number;
  /** Worker TTFT histogram delta (enqueue → first token), ms; null when the delta was not one sample. */
  serverMs: number | null;
  /** POST → first SSE `token` event, ms; null without SSE. */
  clientMs: number | null;
  /** Prompt tokens the worker served from its prefix KV cache for this request. */
  prefixHitTokens: number;
}

/** A documented performance target and whether this run met it. */
export interface TargetCheck {
  name: string;
  target: string;
  value: number | null;
  met: boolean;
}

/** The JSON document `hotpath bench cache --json` writes. */
export interface CacheReport {
  scenario: 'cache';
  model: string;
  preset: string;
  quick: boolean;
  hit_latency: {
    requests: number;
    all_hits: boolean;
    server_p50_ms: number | null;
    server_p99_ms: number | null;
    server_mean_ms: number | null;
    client_p50_ms: number | null;
    client_p99_ms: number | null;
  };
  miss_latency: {
    requests: number;
    max_tokens: number;
    mean_completion_tokens: number | null;
    server_p50_ms: number | null;
    server_mean_ms: number | null;
    client_p50_ms: number | null;
  };
  /** Miss p50 ÷ hit p50, server side. */
  miss_over_hit: number | null;
  coalescing: {
    requests: number;
    x_cache: Record<string, number>;
    distinct_job_ids: number;
    identical_results: boolean;
    model_executions: number;
  };
  prefix_ttft: {
    pairs: number;
    shared_prefix_tokens: number;
    mean_prompt_tokens: number | null;
    cold_server_p50_ms: number | null;
    warm_server_p50_ms: number | null;
    cold_client_p50_ms: number | null;
    warm_client_p50_ms: number | null;
    mean_warm_prefix_hit_tokens: number | null;
    /** Cold p50 ÷ warm p50, server side. */
    speedup: number | null;
  };
  targets: TargetCheck[];
}

/** What the bench measured, before summarising. */
export interface CacheMeasurements {
  model: string;
  preset: string;
  quick: boolean;
  maxTokens: number;
  misses: Submitted[];
  hits: Submitted[];
  missServer: { p50Ms: number | null; meanMs: number | null };
  hitServer: { p50Ms: number | null; p99Ms: number | null; meanMs: number | null };
  burst: Submitted[];
  executions: number;
  ttft: TtftSample[];
  prefixTokens: number;
}

const p50 = (xs: readonly (number | null)[]): number | null =>
  summarize(xs.filter((x): x is number => x !== null)).p50;
const mean = (xs: readonly number[]): number | null =>
  xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
const ratio = (a: number | null, b: number | null): number | null =>
  a !== null && b !== null && b > 0 ? a / b : null;

/** Summarises the measurements and checks them against the documented targets. */
export function buildCacheReport(m: CacheMeasurements): CacheReport {
  const hitClient = summarize(m.hits.map((h) => h.clientMs));
  const xCache: Record<string, number> = {};
  for (const b of m.burst) xCache[b.xCache ?? 'none'] = (xCache[b.xCache ?? 'none'] ?? 0) + 1;
  const texts = new Set(m.burst.map((b) => JSON.stringify(b.view.result?.tokens ?? null)));
  const cold = m.ttft.filter((t) => t.kind === 'cold');
  const warm = m.ttft.filter((t) => t.kind === 'warm');
  const coldP50 = p50(cold.map((t) => t.serverMs));
  const warmP50 = p50(warm.map((t) => t.serverMs));
  const missOverHit = ratio(m.missServer.p50Ms, m.hitServer.p50Ms);
  const speedup = ratio(coldP50, warmP50);
  const report: CacheReport = {
    scenario: 'cache',
    model: m.model,
    preset: m.preset,
    quick: m.quick,
    hit_latency: {
      requests: m.hits.length,
      all_hits: m.hits.every((h) => h.xCache === 'hit'),
      server_p50_ms: round4(m.hitServer.p50Ms),
      server_p99_ms: round4(m.hitServer.p99Ms),
      server_mean_ms: round4(m.hitServer.meanMs),
      client_p50_ms: round4(hitClient.p50),
      client_p99_ms: round4(hitClient.p99),
    },
    miss_latency: {
      requests: m.misses.length,
      max_tokens: m.maxTokens,
      mean_completion_tokens: round2(mean(m.misses.map((s) => s.view.usage?.completion_tokens ?? 0))),
      server_p50_ms: round2(m.missServer.p50Ms),
      server_mean_ms: round2(m.missServer.meanMs),
      client_p50_ms: round2(summarize(m.misses.map((s) => s.clientMs)).p50),
    },
    miss_over_hit: round2(missOverHit),
    coalescing: {
      requests: m.burst.length,
      x_cache: xCache,
      distinct_job_ids: new Set(m.burst.map((b) => b.view.id)).size,
      identical_results: texts.size === 1,
      model_executions: m.executions,
    },
    prefix_ttft: {
      pairs: Math.min(cold.length, warm.length),
      shared_prefix_tokens: m.prefixTokens,
      mean_prompt_tokens: round2(mean(m.ttft.map((t) => t.promptTokens))),
      cold_server_p50_ms: round2(coldP50),
      warm_server_p50_ms: round2(warmP50),
      cold_client_p50_ms: round2(p50(cold.map((t) => t.clientMs))),
      warm_client_p50_ms: round2(p50(warm.map((t) => t.clientMs))),
      mean_warm_prefix_hit_tokens: round2(mean(warm.map((t) => t.prefixHitTokens))),
      speedup: round2(speedup),
    },
    targets: [],
  };
  const hitP50 = report.hit_latency.server_p50_ms;
  report.targets = [
    { name: 'hit server p50 (ms)', target: '<= 2', value: hitP50, met: hitP50 !== null && hitP50 <= 2 },
    {
      name: 'miss p50 / hit p50',
      target: '>= 20',
      value: report.miss_over_hit,
      met: (missOverHit ?? 0) >= 20,
    },
    {
      name: `model executions for ${m.burst.length} identical requests`,
      target: '== 1',
      value: m.executions,
      met: m.executions === 1,
    },
    {
      name: 'cold TTFT / warm TTFT (256+ cached tokens)',
      target: '>= 3',
      value: report.prefix_ttft.speedup,
      met: (speedup ?? 0) >= 3,
    },
  ];
  return report;
}

function round4(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10_000) / 10_000;
}

/** The printed table of a report. */
export function formatCacheReport(r: CacheReport): string {
  const f = (v: number | null | boolean): string => (v === null ? '-' : String(v));
  const lines = [
    `model ${r.model} (${r.preset})`,
    '',
    `(a) result cache        server p50   server mean   client p50`,
    `    hit  (${r.hit_latency.requests})${' '.repeat(Math.max(1, 12 - String(r.hit_latency.requests).length))}${f(r.hit_latency.server_p50_ms).padStart(8)} ms ${f(r.hit_latency.server_mean_ms).padStart(9)} ms ${f(r.hit_latency.client_p50_ms).padStart(9)} ms`,
    `    miss (${r.miss_latency.requests}, ${r.miss_latency.max_tokens} tok)${' '.repeat(Math.max(1, 6 - String(r.miss_latency.requests).length - String(r.miss_latency.max_tokens).length))}${f(r.miss_latency.server_p50_ms).padStart(8)} ms ${f(r.miss_latency.server_mean_ms).padStart(9)} ms ${f(r.miss_latency.client_p50_ms).padStart(9)} ms`,
    `    miss/hit (server p50) = ${f(r.miss_over_hit)}x; all hits answered x-cache: hit = ${r.hit_latency.all_hits}`,
    '',
    `(b) ${r.coalescing.requests} identical concurrent requests: x-cache ${JSON.stringify(r.coalescing.x_cache)}, ` +
      `${r.coalescing.distinct_job_ids} job id(s), identical results ${r.coalescing.identical_results}, ` +
      `model executions (worker metric) ${r.coalescing.model_executions}`,
    '',
    `(c) TTFT, ${r.prefix_ttft.shared_prefix_tokens}-token shared prefix (${f(r.prefix_ttft.mean_prompt_tokens)} prompt tokens):`,
    `    cold p50 ${f(r.prefix_ttft.cold_server_p50_ms)} ms server / ${f(r.prefix_ttft.cold_client_p50_ms)} ms client (SSE)`,
    `    warm p50 ${f(r.prefix_ttft.warm_server_p50_ms)} ms server / ${f(r.prefix_ttft.warm_client_p50_ms)} ms client (SSE), ` +
      `${f(r.prefix_ttft.mean_warm_prefix_hit_tokens)} prefix tokens reused`,
    `    speedup ${f(r.prefix_ttft.speedup)}x`,
    '',
    'targets:',
    ...r.targets.map((t) => `  ${t.met ? 'MET ' : 'MISS'}  ${t.name}: ${f(t.value)} (target ${t.target})`),
  ];
  return lines.join('\n');
}
