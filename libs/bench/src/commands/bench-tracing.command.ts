import type { CliCommand } from '@hotpath/cli-kit';
import { benchConsole, elapsedLine, emitReport } from '../bench-output';
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
    const { human, io } = benchConsole('tracing', opts);
    const started = Date.now();
    const report = await runTracingBench(opts, env, io);
    human.write(`${formatTracingReport(report)}\n`);
    human.write(elapsedLine(started));
    emitReport(opts, report);
    return 0;
  },
};
