import type { CliCommand } from '@hotpath/cli-kit';
import { benchConsole, elapsedLine, emitReport } from '../bench-output';
import { fairnessLines, runFairnessBench } from '../fairness-bench';
import { BENCH_FAIRNESS_USAGE, parseFairnessBenchOptions } from '../fairness-plan';

/** `hotpath bench fairness`: fair queuing between tenants on the sim backend (starts its own cluster). */
export const BENCH_FAIRNESS_COMMAND: CliCommand = {
  path: ['bench', 'fairness'],
  summary: 'measure fair sharing between tenants: flood isolation, weights, cost (starts its own cluster)',
  usage: BENCH_FAIRNESS_USAGE,
  async run(argv) {
    // The CLI's one read of its environment; the cluster's children get a copy of it.
    const env = { ...process.env };
    const opts = parseFairnessBenchOptions(argv, env, process.stdout.isTTY === true, process.cwd());
    const { human, io } = benchConsole('fairness', opts);
    const started = Date.now();
    const report = await runFairnessBench(opts, env, io);
    for (const line of fairnessLines(report)) human.write(`${line}\n`);
    human.write(elapsedLine(started));
    emitReport(opts, report);
    return 0;
  },
};
