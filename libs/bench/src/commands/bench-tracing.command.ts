import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CliCommand } from '@hotpath/cli-kit';
import { runTracingBench } from '../tracing/tracing-bench';
import { BENCH_TRACING_USAGE, parseTracingBenchOptions } from '../tracing/tracing-bench-options';
import { formatTracingReport } from '../tracing/tracing-report';

/** `hotpath bench tracing`: throughput with tracing at 100% sampling versus tracing off. */
export const BENCH_TRACING_COMMAND: CliCommand = {
  path: ['bench', 'tracing'],
  summary: 'throughput with tracing at 100% sampling vs off on sim (starts its own cluster)',
  usage: BENCH_TRACING_USAGE,
  async run(argv) {
    // The CLI's one read of its environment; the cluster's children get a filtered copy of it.
    const env = { ...process.env };
    const opts = parseTracingBenchOptions(argv, env, process.stdout.isTTY === true, process.cwd());
    const started = Date.now();
    const report = await runTracingBench(opts, env, {
      progress: (line) => {
        if (opts.interactive) process.stdout.write(`${line}\n`);
      },
      warn: (line) => process.stderr.write(`hotpath bench tracing: ${line}\n`),
    });
    process.stdout.write(`${formatTracingReport(report)}\n`);
    process.stdout.write(`(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    if (opts.jsonFile) {
      mkdirSync(dirname(opts.jsonFile), { recursive: true });
      writeFileSync(opts.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    }
    return 0;
  },
};
