import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CliCommand } from '@hotpath/cli-kit';
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
    const report = await runEngineBench(opts, (line) => {
      if (opts.interactive) process.stdout.write(`${line}\n`);
    });
    for (const line of engineReportLines(report)) process.stdout.write(`${line}\n`);
    process.stdout.write(`(${report.meta.duration_s} s)\n`);
    if (opts.jsonFile) {
      mkdirSync(dirname(opts.jsonFile), { recursive: true });
      writeFileSync(opts.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    }
    return 0;
  },
};
