import type { CliCommand } from '@hotpath/cli-kit';
import { benchConsole, emitReport } from '../bench-output';
import { formatRedisCost, runRedisCost } from '../redis-cost/redis-cost-bench';
import { BENCH_REDIS_COST_USAGE, parseRedisCostOptions } from '../redis-cost/redis-cost-options';

/** `hotpath bench redis-cost`: Redis commands (and Redis CPU) per plain, streamed and cached job. */
export const BENCH_REDIS_COST_COMMAND: CliCommand = {
  path: ['bench', 'redis-cost'],
  summary: 'count the Redis commands per job from INFO commandstats (starts its own cluster)',
  usage: BENCH_REDIS_COST_USAGE,
  async run(argv) {
    const env = { ...process.env };
    const opts = parseRedisCostOptions(argv, env, process.stdout.isTTY === true, process.cwd());
    const { human, io } = benchConsole('redis-cost', opts);
    const report = await runRedisCost(opts, env, io);
    human.write(`${formatRedisCost(report)}\n`);
    emitReport(opts, report);
    return 0;
  },
};
