import type { CliCommand } from '@hotpath/cli-kit';
import { runBatchingBench } from '../batching-bench';
import { BENCH_BATCHING_USAGE, parseBatchingBenchOptions } from '../bench-options';
import { benchConsole, elapsedLine, emitReport, writeOut } from '../bench-output';
import { chartSeries, formatTable, summaryLines } from '../bench-results';
import { lineChartSvg } from '../svg-chart';

/** `hotpath bench batching`: batching off versus on, on a cluster the bench starts itself. */
export const BENCH_BATCHING_COMMAND: CliCommand = {
  path: ['bench', 'batching'],
  summary: 'load-test batching off vs on (starts its own cluster)',
  usage: BENCH_BATCHING_USAGE,
  async run(argv) {
    // The CLI's one read of its environment; the cluster's children get a copy of it.
    const env = { ...process.env };
    const opts = parseBatchingBenchOptions(argv, env, process.stdout.isTTY === true, process.cwd());
    const { human, io } = benchConsole('batching', opts);
    const started = Date.now();
    const rows = await runBatchingBench(opts, env, io);
    human.write(`${formatTable(rows)}\n\n`);
    for (const line of summaryLines(rows)) human.write(`${line}\n`);
    human.write(elapsedLine(started));
    emitReport(opts, { results: rows });
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
