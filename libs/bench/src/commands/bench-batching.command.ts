import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CliCommand } from '@hotpath/cli-kit';
import { runBatchingBench } from '../batching-bench';
import { BENCH_BATCHING_USAGE, parseBatchingBenchOptions } from '../bench-options';
import { chartSeries, formatTable, summaryLines } from '../bench-results';
import { lineChartSvg } from '../svg-chart';

function writeOut(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** `hotpath bench batching`: batching off versus on, on a cluster the bench starts itself. */
export const BENCH_BATCHING_COMMAND: CliCommand = {
  path: ['bench', 'batching'],
  summary: 'load-test batching off vs on (starts its own cluster)',
  usage: BENCH_BATCHING_USAGE,
  async run(argv) {
    // The CLI's one read of its environment; the cluster's children get a copy of it.
    const env = { ...process.env };
    const opts = parseBatchingBenchOptions(argv, env, process.stdout.isTTY === true, process.cwd());
    const started = Date.now();
    const rows = await runBatchingBench(opts, env, {
      progress: (line) => {
        if (opts.interactive) process.stdout.write(`${line}\n`);
      },
      warn: (line) => process.stderr.write(`hotpath bench batching: ${line}\n`),
    });
    process.stdout.write(`${formatTable(rows)}\n\n`);
    for (const line of summaryLines(rows)) process.stdout.write(`${line}\n`);
    process.stdout.write(`(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    if (opts.jsonFile) writeOut(opts.jsonFile, `${JSON.stringify({ results: rows }, null, 2)}\n`);
    if (opts.svgFile) {
      writeOut(
        opts.svgFile,
        lineChartSvg({
          title: 'Batching off vs on: p50 latency versus throughput',
          xLabel: 'throughput (jobs/s)',
          yLabel: 'p50 latency (ms)',
          series: chartSeries(rows),
        }),
      );
    }
    return 0;
  },
};
