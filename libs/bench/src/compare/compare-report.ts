import { lineChartSvg, type ChartSeries } from '../svg-chart';
import { SYSTEMS, type SystemName } from './compare-plan';
import type { CompareDocument, CompareRow } from './compare-results';

const cell = (v: number | null | undefined, unit = ''): string =>
  v === null || v === undefined ? '–' : `${v}${unit}`;

const pct = (v: number | null): string => (v === null ? '–' : `${Math.round(v * 100)}%`);
const times = (v: number | null): string => (v === null ? '–' : `${v.toFixed(2)}×`);

function load(r: CompareRow): string {
  return r.mode === 'closed' ? `c=${r.concurrency}` : `${r.rate}/s open`;
}

/** Systems that have at least one row, in the canonical order. */
function present(doc: CompareDocument): SystemName[] {
  return SYSTEMS.filter((s) => doc.results.some((r) => r.system === s));
}

/** A Markdown table from a header and rows of cells. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** The one-table summary: saturation, ratios, latency at concurrency 1, embeddings. */
export function summaryTable(doc: CompareDocument): string {
  const s = doc.summary;
  const ort = s.saturation_tokens_per_s['ort-direct'];
  const rows = present(doc).map((sys) => {
    const tok = s.saturation_tokens_per_s[sys];
    return [
      `\`${sys}\``,
      cell(tok),
      tok !== undefined && ort !== undefined && ort > 0 ? pct(tok / ort) : '–',
      cell(s.saturation_requests_per_s[sys]),
      cell(s.p50_ms_at_concurrency_1[sys]),
      cell(s.ttft_p50_ms_at_concurrency_1[sys]),
      cell(s.tokens_per_s_at_concurrency_1[sys]),
      cell(s.tokens_per_s_at_concurrency_16[sys]),
      s.fraction_of_compute_limit[sys] !== undefined
        ? `${(s.fraction_of_compute_limit[sys] * 100).toFixed(1)}%`
        : '–',
      cell(s.embed_saturation_requests_per_s[sys]),
    ];
  });
  return markdownTable(
    [
      'system',
      'saturation tokens/s',
      'of ort-direct',
      'saturation req/s',
      'p50 ms @ c=1',
      'TTFT p50 ms @ c=1',
      'tokens/s @ c=1',
      'tokens/s @ c=16',
      'of compute limit',
      'embed req/s',
    ],
    rows,
  );
}

/** The roofline section: host peaks, the model's limits, and how to read the last summary column. */
export function rooflineSection(doc: CompareDocument): string[] {
  const r = doc.roofline;
  if (!r) return [];
  const gemm = r.gemm.map((g) => `${g.gflops} @ ${g.rows} rows`).join(', ');
  return [
    '## Roofline',
    '',
    `- Host GEMM through onnxruntime (GFLOP/s, \`[rows, 2048] × [2048, 2048]\`): ${gemm}; peak **${r.peak_gflops} GFLOP/s**.`,
    `- Memory bandwidth: ${r.memory_bandwidth_gb_s} GB/s (256 MiB copy), ${r.gemv_bandwidth_gb_s} GB/s of weights streamed by the 1-row GEMM.`,
    `- \`${doc.meta.model.generate}\` needs ${(r.flops_per_token / 1e6).toFixed(1)} MFLOP per token (2 × matmul parameters + attention at ${r.mean_context} positions): compute limit **${r.compute_tokens_per_s} tokens/s**; single-stream memory limit (F32 weights read once per token) ${r.memory_tokens_per_s} tokens/s.`,
    `- "of compute limit" in the summary is each system's saturation tokens/s over the compute limit.`,
    '',
  ];
}

/** The llama.cpp token-agreement line, when llama.cpp ran. */
function agreementLine(doc: CompareDocument): string[] {
  const a = doc.token_agreement_llama_cpp;
  if (!a) return [];
  const where = a.first_mismatch
    ? ` First difference: prompt ${a.first_mismatch.prompt}, token ${a.first_mismatch.position} (hotpath ${a.first_mismatch.hotpath ?? 'end'}, llama.cpp ${a.first_mismatch.other ?? 'end'}).`
    : '';
  return [
    `- Greedy tokens, llama.cpp vs Hotpath (first ${a.max_tokens} of each of ${a.prompts} prompts): **${a.identical}/${a.prompts} identical**, ${a.matching_prefix_tokens}/${a.tokens_compared} tokens before the first difference.${where}`,
  ];
}

const verdict = (v: boolean | null): string => (v === null ? '–' : v ? 'met' : 'not met');

/** Every level of every system. */
export function resultsTable(rows: readonly CompareRow[]): string {
  return markdownTable(
    [
      'system',
      'workload',
      'load',
      'req/s',
      'tokens/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'TTFT p50',
      'TTFT p99',
      'errors',
    ],
    rows.map((r) => [
      `\`${r.system}\``,
      r.workload,
      load(r),
      cell(r.throughput),
      cell(r.tokens_per_s),
      cell(r.p50_ms),
      cell(r.p95_ms),
      cell(r.p99_ms),
      cell(r.ttft_p50_ms),
      cell(r.ttft_p99_ms),
      `${r.errors}/${r.requests}`,
    ]),
  );
}

/** The Markdown report written to `--report DIR/report.md`. */
export function markdownReport(doc: CompareDocument, charts: readonly string[]): string {
  const s = doc.summary;
  const m = doc.meta;
  const out = [
    '# hotpath bench compare',
    '',
    `\`${m.command}\` — ${m.started_at}, ${m.duration_s} s${m.quick ? ' (quick)' : ''}`,
    '',
    `Machine: ${m.machine.cpus} × ${m.machine.cpu_model}, ${m.machine.memory_gb} GB, ${m.machine.platform}, Node ${m.machine.node}.`,
    `Model: \`${m.model.generate}\` (generate), \`${m.model.embed}\` (embed). Prompts: ${m.prompt_set.size} seeded prompts (seed ${m.prompt_set.seed}), ${m.prompt_set.max_tokens[0]}–${m.prompt_set.max_tokens[1]} new tokens, greedy.`,
    '',
    '## Summary',
    '',
    summaryTable(doc),
    '',
    `- Efficiency hotpath / ort-direct: **${pct(s.efficiency_hotpath_vs_ort_direct)}** (ort-direct peaked at concurrency ${cell(s.ort_direct_best_concurrency)}).`,
    `- hotpath / naive: **${times(s.hotpath_vs_naive)}**; hotpath / transformers.js: **${times(s.hotpath_vs_transformers_js)}**; hotpath / llama.cpp: **${times(s.hotpath_vs_llama_cpp)}** (saturation tokens/s).`,
    `- Targets against llama.cpp: single stream (tokens/s at c=1) ${verdict(s.targets.hotpath_ge_llama_cpp_single)}; hotpath saturation ≥ llama.cpp at 16 sequences ${verdict(s.targets.hotpath_ge_llama_cpp_batched)}.`,
    ...agreementLine(doc),
    '',
    ...rooflineSection(doc),
  ];
  if (doc.notes.length > 0) out.push('## Notes', '', ...doc.notes.map((n) => `- ${n}`), '');
  if (charts.length > 0) out.push('## Charts', '', ...charts.map((c) => `![${c}](${c})`), '');
  out.push('## All levels', '', resultsTable(doc.results), '');
  return out.join('\n');
}

/** One SVG chart to write. */
export interface NamedChart {
  file: string;
  svg: string;
}

function series(
  doc: CompareDocument,
  pick: (r: CompareRow) => { x: number; y: number } | undefined,
  filter: (r: CompareRow) => boolean,
): ChartSeries[] {
  return present(doc)
    .map((sys) => ({
      name: sys,
      points: doc.results
        .filter((r) => r.system === sys && filter(r))
        .flatMap((r) => {
          const p = pick(r);
          return p ? [p] : [];
        }),
    }))
    .filter((s) => s.points.length > 0);
}

/**
 * The report's charts: p50 latency versus tokens/s per system (closed and open loop), tokens/s
 * versus closed-loop concurrency, and embed p50 latency versus requests/s.
 */
export function compareCharts(doc: CompareDocument): NamedChart[] {
  const charts: NamedChart[] = [];
  const gen = (r: CompareRow): boolean => r.workload === 'generate';
  const latency = series(
    doc,
    (r) => (r.tokens_per_s !== null && r.p50_ms !== null ? { x: r.tokens_per_s, y: r.p50_ms } : undefined),
    gen,
  );
  if (latency.length > 0) {
    charts.push({
      file: 'latency-vs-throughput.svg',
      svg: lineChartSvg({
        title: `Generate: p50 latency versus throughput (${doc.meta.model.generate})`,
        xLabel: 'throughput (generated tokens/s)',
        yLabel: 'p50 latency (ms)',
        series: latency,
      }),
    });
  }
  const scaling = series(
    doc,
    (r) =>
      r.concurrency !== null && r.tokens_per_s !== null ? { x: r.concurrency, y: r.tokens_per_s } : undefined,
    (r) => gen(r) && r.mode === 'closed',
  );
  if (scaling.length > 0) {
    charts.push({
      file: 'tokens-vs-concurrency.svg',
      svg: lineChartSvg({
        title: 'Generate: tokens/s versus closed-loop concurrency',
        xLabel: 'concurrency (requests in flight)',
        yLabel: 'generated tokens/s',
        series: scaling,
      }),
    });
  }
  const embed = series(
    doc,
    (r) => (r.p50_ms !== null ? { x: r.throughput, y: r.p50_ms } : undefined),
    (r) => r.workload === 'embed',
  );
  if (embed.length > 0) {
    charts.push({
      file: 'embed-latency-vs-throughput.svg',
      svg: lineChartSvg({
        title: `Embed: p50 latency versus throughput (${doc.meta.model.embed})`,
        xLabel: 'throughput (requests/s, one text each)',
        yLabel: 'p50 latency (ms)',
        series: embed,
      }),
    });
  }
  return charts;
}
