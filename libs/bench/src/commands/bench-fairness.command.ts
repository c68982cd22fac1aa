import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CliCommand } from '@hotpath/cli-kit';
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
    const started = Date.now();
    const report = await runFairnessBench(opts, env, {
      progress: (line) => {
        if (opts.interactive) process.stdout.write(`${line}\n`);
      },
      warn: (line) => process.stderr.write(`hotpath bench fairness: ${line}\n`),
    });
    for (const line of fairnessLines(report)) process.stdout.write(`${line}\n`);
    process.stdout.write(`(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    if (opts.jsonFile) {
      mkdirSync(dirname(opts.jsonFile), { recursive: true });
      writeFileSync(opts.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    }
    return 0;
  },
};
