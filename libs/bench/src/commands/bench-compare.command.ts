import { join } from 'node:path';
import type { CliCommand } from '@hotpath/cli-kit';
import { benchConsole, emitReport, writeOut } from '../bench-output';
import { runCompareBench } from '../compare/compare-bench';
import { BENCH_COMPARE_USAGE, parseCompareBenchOptions } from '../compare/compare-options';
import { compareCharts, markdownReport, resultsTable, summaryTable } from '../compare/compare-report';

/** `hotpath bench compare`: Hotpath against ort-direct, llama.cpp, naive and transformers.js on one machine. */
export const BENCH_COMPARE_COMMAND: CliCommand = {
  path: ['bench', 'compare'],
  summary: 'compare Hotpath with onnxruntime in-process, llama.cpp, a naive queue and transformers.js',
  usage: BENCH_COMPARE_USAGE,
  async run(argv) {
    // The CLI's one read of its environment; the cluster's children get a copy of it.
    const env = { ...process.env };
    const opts = parseCompareBenchOptions(argv, env, process.stdout.isTTY === true, process.cwd());
    const { human, io } = benchConsole('compare', opts);
    const { doc, failed } = await runCompareBench(opts, env, io);
    human.write(`${resultsTable(doc.results)}\n\n${summaryTable(doc)}\n\n`);
    const s = doc.summary;
    const fmt = (v: number | null): string => (v === null ? '-' : String(v));
    human.write(
      `hotpath/ort-direct ${fmt(s.efficiency_hotpath_vs_ort_direct)}, hotpath/naive ${fmt(s.hotpath_vs_naive)}, ` +
        `hotpath/transformers.js ${fmt(s.hotpath_vs_transformers_js)}, hotpath/llama.cpp ${fmt(s.hotpath_vs_llama_cpp)} (saturation tokens/s)\n`,
    );
    if (doc.roofline) {
      const r = doc.roofline;
      human.write(
        `roofline: ${r.peak_gflops} GFLOP/s GEMM peak, ${r.memory_bandwidth_gb_s} GB/s copy; model compute limit ${r.compute_tokens_per_s} tokens/s\n`,
      );
    }
    const a = doc.token_agreement_llama_cpp;
    if (a) human.write(`llama.cpp greedy tokens: ${a.identical}/${a.prompts} prompts identical to Hotpath\n`);
    for (const n of doc.notes) human.write(`note: ${n}\n`);
    human.write(`(${doc.meta.duration_s} s)\n`);
    emitReport(opts, doc);
    if (opts.reportDir) {
      const charts = compareCharts(doc);
      for (const c of charts) writeOut(join(opts.reportDir, c.file), c.svg);
      writeOut(
        join(opts.reportDir, 'report.md'),
        markdownReport(
          doc,
          charts.map((c) => c.file),
        ),
      );
      if (opts.outFile === undefined)
        writeOut(join(opts.reportDir, 'results.json'), `${JSON.stringify(doc, null, 2)}\n`);
    }
    return failed.length > 0 ? 1 : 0;
  },
};
