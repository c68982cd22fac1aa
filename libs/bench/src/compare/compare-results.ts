import type { LoadResult } from '../load-generator';
import { levelFigures, type LevelFigures, type LoadLevel } from '../level-figures';
import { SYSTEMS, WORKLOADS, type SystemName, type Workload } from './compare-plan';
import type { TokenAgreement } from './token-agreement';

/** Version tag of the JSON document; bump on incompatible changes. */
export const COMPARE_SCHEMA = 'hotpath.bench.compare/v1';

/** One line of `results`: one system × workload × load level. */
export interface CompareRow extends LevelFigures {
  system: SystemName;
  workload: Workload;
  /** `closed`: fixed concurrency; `open`: fixed arrival rate (latency from the intended send time). */
  mode: 'closed' | 'open';
}

/** Which level a row measures. */
export interface RowContext {
  system: SystemName;
  workload: Workload;
  load: LoadLevel;
}

/** Turns a load level's samples into a row (pure). Failed requests count as errors, not latency. */
export function toCompareRow(result: LoadResult, ctx: RowContext): CompareRow {
  // system, workload and mode lead the JSON row; the figures follow in their own order.
  return {
    system: ctx.system,
    workload: ctx.workload,
    mode: 'concurrency' in ctx.load ? 'closed' : 'open',
    ...levelFigures(result, ctx.load, ctx.workload === 'generate'),
  };
}

/** Per-system figures; a system that did not run is absent. */
export type BySystem = Partial<Record<SystemName, number>>;

/** The `summary` object of the JSON document. */
export interface CompareSummary {
  /** Highest generated tokens/s of each system over all its generate levels (open and closed). */
  saturation_tokens_per_s: BySystem;
  /** Highest completed generate requests/s of each system. */
  saturation_requests_per_s: BySystem;
  /** Closed-loop concurrency at which `ort-direct` peaked: its best batch size on this machine. */
  ort_direct_best_concurrency: number | null;
  /** Generated tokens/s at closed-loop concurrency 1 (single stream) and 16. */
  tokens_per_s_at_concurrency_1: BySystem;
  tokens_per_s_at_concurrency_16: BySystem;
  /** Median generate latency at closed-loop concurrency 1. */
  p50_ms_at_concurrency_1: BySystem;
  ttft_p50_ms_at_concurrency_1: BySystem;
  /** Highest completed embed requests/s of each system (one text per request). */
  embed_saturation_requests_per_s: BySystem;
  /** hotpath / ort-direct saturation tokens/s (the efficiency ratio), null when either is missing. */
  efficiency_hotpath_vs_ort_direct: number | null;
  /** hotpath / other saturation tokens/s. */
  hotpath_vs_naive: number | null;
  hotpath_vs_transformers_js: number | null;
  hotpath_vs_llama_cpp: number | null;
  /**
   * Each system's saturation tokens/s as a fraction of the model's compute limit on this host
   * (see `roofline`); empty when the roofline was not measured.
   */
  fraction_of_compute_limit: BySystem;
  /** The documented targets, each null when a figure it needs is missing. */
  targets: {
    hotpath_ge_80pct_of_ort_direct: boolean | null;
    hotpath_ge_5x_naive: boolean | null;
    hotpath_ge_5x_transformers_js: boolean | null;
    hotpath_p50_c1_le_transformers_js_plus_5ms: boolean | null;
    /** hotpath tokens/s at concurrency 1 ≥ llama.cpp's. */
    hotpath_ge_llama_cpp_single: boolean | null;
    /** hotpath saturation tokens/s ≥ llama.cpp's tokens/s at 16 parallel sequences (concurrency 16). */
    hotpath_ge_llama_cpp_batched: boolean | null;
  };
}

function best(rows: readonly CompareRow[], pick: (r: CompareRow) => number | null): CompareRow | undefined {
  return rows.reduce<CompareRow | undefined>((b, r) => {
    const v = pick(r);
    return v !== null && (!b || v > (pick(b) ?? -Infinity)) ? r : b;
  }, undefined);
}

const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a !== undefined && b !== undefined && b > 0 ? Math.round((a / b) * 1000) / 1000 : null;

/**
 * Computes the summary from the rows (pure); `computeLimit` (tokens/s at the host's GEMM peak)
 * fills `fraction_of_compute_limit`.
 */
export function summarizeCompare(rows: readonly CompareRow[], computeLimit?: number): CompareSummary {
  const s: CompareSummary = {
    saturation_tokens_per_s: {},
    saturation_requests_per_s: {},
    ort_direct_best_concurrency: null,
    tokens_per_s_at_concurrency_1: {},
    tokens_per_s_at_concurrency_16: {},
    p50_ms_at_concurrency_1: {},
    ttft_p50_ms_at_concurrency_1: {},
    embed_saturation_requests_per_s: {},
    efficiency_hotpath_vs_ort_direct: null,
    hotpath_vs_naive: null,
    hotpath_vs_transformers_js: null,
    hotpath_vs_llama_cpp: null,
    fraction_of_compute_limit: {},
    targets: {
      hotpath_ge_80pct_of_ort_direct: null,
      hotpath_ge_5x_naive: null,
      hotpath_ge_5x_transformers_js: null,
      hotpath_p50_c1_le_transformers_js_plus_5ms: null,
      hotpath_ge_llama_cpp_single: null,
      hotpath_ge_llama_cpp_batched: null,
    },
  };
  for (const system of SYSTEMS) {
    const gen = rows.filter((r) => r.system === system && r.workload === 'generate');
    const tok = best(gen, (r) => r.tokens_per_s);
    if (tok?.tokens_per_s != null) s.saturation_tokens_per_s[system] = tok.tokens_per_s;
    const req = best(gen, (r) => r.throughput);
    if (req) s.saturation_requests_per_s[system] = req.throughput;
    if (system === 'ort-direct') {
      s.ort_direct_best_concurrency =
        best(
          gen.filter((r) => r.mode === 'closed'),
          (r) => r.tokens_per_s,
        )?.concurrency ?? null;
    }
    const c1 = gen.find((r) => r.mode === 'closed' && r.concurrency === 1);
    if (c1?.p50_ms != null) s.p50_ms_at_concurrency_1[system] = c1.p50_ms;
    if (c1?.ttft_p50_ms != null) s.ttft_p50_ms_at_concurrency_1[system] = c1.ttft_p50_ms;
    if (c1?.tokens_per_s != null) s.tokens_per_s_at_concurrency_1[system] = c1.tokens_per_s;
    const c16 = gen.find((r) => r.mode === 'closed' && r.concurrency === 16);
    if (c16?.tokens_per_s != null) s.tokens_per_s_at_concurrency_16[system] = c16.tokens_per_s;
    if (tok?.tokens_per_s != null && computeLimit !== undefined && computeLimit > 0)
      s.fraction_of_compute_limit[system] = Math.round((tok.tokens_per_s / computeLimit) * 10_000) / 10_000;
    const emb = best(
      rows.filter((r) => r.system === system && r.workload === 'embed'),
      (r) => r.throughput,
    );
    if (emb) s.embed_saturation_requests_per_s[system] = emb.throughput;
  }
  const sat = s.saturation_tokens_per_s;
  s.efficiency_hotpath_vs_ort_direct = ratio(sat.hotpath, sat['ort-direct']);
  s.hotpath_vs_naive = ratio(sat.hotpath, sat.naive);
  s.hotpath_vs_transformers_js = ratio(sat.hotpath, sat['transformers.js']);
  s.hotpath_vs_llama_cpp = ratio(sat.hotpath, sat['llama.cpp']);
  const t = s.targets;
  if (s.efficiency_hotpath_vs_ort_direct !== null)
    t.hotpath_ge_80pct_of_ort_direct = s.efficiency_hotpath_vs_ort_direct >= 0.8;
  if (s.hotpath_vs_naive !== null) t.hotpath_ge_5x_naive = s.hotpath_vs_naive >= 5;
  if (s.hotpath_vs_transformers_js !== null)
    t.hotpath_ge_5x_transformers_js = s.hotpath_vs_transformers_js >= 5;
  const p50 = s.p50_ms_at_concurrency_1;
  if (p50.hotpath !== undefined && p50['transformers.js'] !== undefined)
    t.hotpath_p50_c1_le_transformers_js_plus_5ms = p50.hotpath <= p50['transformers.js'] + 5;
  const single = s.tokens_per_s_at_concurrency_1;
  if (single.hotpath !== undefined && single['llama.cpp'] !== undefined)
    t.hotpath_ge_llama_cpp_single = single.hotpath >= single['llama.cpp'];
  const llama16 = s.tokens_per_s_at_concurrency_16['llama.cpp'];
  if (sat.hotpath !== undefined && llama16 !== undefined)
    t.hotpath_ge_llama_cpp_batched = sat.hotpath >= llama16;
  return s;
}

/** Where and how the run happened. */
export interface CompareMeta {
  command: string;
  started_at: string;
  duration_s: number;
  quick: boolean;
  model: { generate: string; embed: string; generate_digest: string | null };
  machine: { cpus: number; cpu_model: string; memory_gb: number; platform: string; node: string };
  /** Systems asked for, and which of them ran. */
  systems: SystemName[];
  workloads: Workload[];
  prompt_set: { seed: number; size: number; max_tokens: [number, number] };
  max_batch_size: number;
}

/** The host's measured roofline and the generate model's limits on it (`roofline` of the document). */
export interface CompareRoofline {
  /** GEMM GFLOP/s through onnxruntime by row count, and the best of them. */
  gemm: { rows: number; gflops: number }[];
  peak_gflops: number;
  memory_bandwidth_gb_s: number;
  gemv_bandwidth_gb_s: number;
  /** Decode FLOPs per token of the generate model at `mean_context` cached positions. */
  flops_per_token: number;
  mean_context: number;
  /** Tokens/s at the GEMM peak (every system's ceiling) and single-stream tokens/s at the copy bandwidth (F32 weights). */
  compute_tokens_per_s: number;
  memory_tokens_per_s: number;
  seconds: number;
}

/** The whole `--json` document (schema in docs/benchmarks.md). */
export interface CompareDocument {
  schema: typeof COMPARE_SCHEMA;
  meta: CompareMeta;
  results: CompareRow[];
  summary: CompareSummary;
  /** Null when measuring it was turned off (`--no-roofline`). */
  roofline: CompareRoofline | null;
  /** Greedy tokens of llama.cpp against Hotpath on the prompt set; null when llama.cpp did not run. */
  token_agreement_llama_cpp: TokenAgreement | null;
  /** Things a reader must know: systems skipped, TTFT not measured, … */
  notes: string[];
}

const NUM_OR_NULL = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isFinite(v));

/**
 * Checks a parsed document against the schema that docs/benchmarks.md documents; returns the
 * problems found (empty when valid). Used by the tests and by anyone consuming the JSON.
 */
export function validateCompareDocument(doc: unknown): string[] {
  const problems: string[] = [];
  if (typeof doc !== 'object' || doc === null) return ['document is not an object'];
  const d = doc as Record<string, unknown>;
  if (d['schema'] !== COMPARE_SCHEMA) problems.push(`schema is not "${COMPARE_SCHEMA}"`);
  if (!Array.isArray(d['results'])) problems.push('results is not an array');
  else {
    d['results'].forEach((row: unknown, i) => {
      if (typeof row !== 'object' || row === null) return problems.push(`results[${i}] is not an object`);
      const r = row as Record<string, unknown>;
      if (!(SYSTEMS as readonly unknown[]).includes(r['system']))
        problems.push(`results[${i}].system unknown`);
      if (!(WORKLOADS as readonly unknown[]).includes(r['workload']))
        problems.push(`results[${i}].workload unknown`);
      const closed = typeof r['concurrency'] === 'number';
      const open = typeof r['rate'] === 'number';
      if (closed === open) problems.push(`results[${i}] needs exactly one of concurrency and rate`);
      if (r['mode'] !== (closed ? 'closed' : 'open')) problems.push(`results[${i}].mode does not match`);
      if (typeof r['throughput'] !== 'number') problems.push(`results[${i}].throughput is not a number`);
      for (const k of ['tokens_per_s', 'p50_ms', 'p95_ms', 'p99_ms', 'ttft_p50_ms', 'ttft_p99_ms']) {
        if (!NUM_OR_NULL(r[k])) problems.push(`results[${i}].${k} is not a number or null`);
      }
      for (const k of ['requests', 'errors']) {
        if (!Number.isInteger(r[k])) problems.push(`results[${i}].${k} is not an integer`);
      }
    });
  }
  const s = d['summary'];
  if (typeof s !== 'object' || s === null) problems.push('summary is not an object');
  else {
    const sum = s as Record<string, unknown>;
    for (const k of [
      'saturation_tokens_per_s',
      'saturation_requests_per_s',
      'p50_ms_at_concurrency_1',
      'ttft_p50_ms_at_concurrency_1',
      'embed_saturation_requests_per_s',
      'tokens_per_s_at_concurrency_1',
      'tokens_per_s_at_concurrency_16',
      'fraction_of_compute_limit',
    ]) {
      const m = sum[k];
      if (typeof m !== 'object' || m === null) {
        problems.push(`summary.${k} is not an object`);
        continue;
      }
      for (const [name, v] of Object.entries(m)) {
        if (!(SYSTEMS as readonly string[]).includes(name))
          problems.push(`summary.${k} has unknown system ${name}`);
        if (typeof v !== 'number') problems.push(`summary.${k}.${name} is not a number`);
      }
    }
    for (const k of [
      'efficiency_hotpath_vs_ort_direct',
      'hotpath_vs_naive',
      'hotpath_vs_transformers_js',
      'hotpath_vs_llama_cpp',
    ]) {
      if (!NUM_OR_NULL(sum[k])) problems.push(`summary.${k} is not a number or null`);
    }
  }
  const roof = d['roofline'];
  if (roof !== null && roof !== undefined) {
    const r = roof as Record<string, unknown>;
    for (const k of ['peak_gflops', 'memory_bandwidth_gb_s', 'flops_per_token', 'compute_tokens_per_s']) {
      if (typeof r[k] !== 'number') problems.push(`roofline.${k} is not a number`);
    }
  }
  const agree = d['token_agreement_llama_cpp'];
  if (agree !== null && agree !== undefined) {
    const a = agree as Record<string, unknown>;
    for (const k of ['prompts', 'identical', 'tokens_compared', 'matching_prefix_tokens']) {
      if (!Number.isInteger(a[k])) problems.push(`token_agreement_llama_cpp.${k} is not an integer`);
    }
  }
  if (typeof d['meta'] !== 'object' || d['meta'] === null) problems.push('meta is not an object');
  if (!Array.isArray(d['notes'])) problems.push('notes is not an array');
  return problems;
}
