import type { CliCommand } from '@hotpath/cli-kit';
import { emitReport, humanStream } from '../bench-output';
import { runEngineBench } from '../engine/engine-bench';
import { BENCH_ENGINE_USAGE, parseEngineBenchOptions } from '../engine/engine-options';
import { engineReportLines } from '../engine/engine-report';

/** `hotpath bench engine`: in-process decoding throughput per stream count, against the roofline. */
export const BENCH_ENGINE_COMMAND: CliCommand = {
  path: ['bench', 'engine'],
  summary: 'decoding engine tokens/s at 1/4/16/64 streams against the host roofline (in-process)',
  usage: BENCH_ENGINE_USAGE,
  async run(argv) {
    const opts = parseEngineBenchOptions(argv, process.stdout.isTTY === true, process.cwd());
    const human = humanStream(opts);
    const report = await runEngineBench(opts, (line) => {
      if (opts.interactive) human.write(`${line}\n`);
    });
    for (const line of engineReportLines(report)) human.write(`${line}\n`);
    human.write(`(${report.meta.duration_s} s)\n`);
    emitReport(opts, report);
    return 0;
  },
};
