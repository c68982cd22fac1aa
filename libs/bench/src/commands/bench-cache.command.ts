import type { CliCommand } from '@hotpath/cli-kit';
import { benchConsole, elapsedLine, emitReport } from '../bench-output';
import { runCacheBench } from '../cache/cache-bench';
import { BENCH_CACHE_USAGE, parseCacheBenchOptions } from '../cache/cache-bench-options';
import { formatCacheReport } from '../cache/cache-report';

/** `hotpath bench cache`: result-cache hit vs miss, single-flight, prefix KV cache TTFT. */
export const BENCH_CACHE_COMMAND: CliCommand = {
  path: ['bench', 'cache'],
  summary: 'measure the result cache, single-flight and the prefix KV cache (starts its own cluster)',
  usage: BENCH_CACHE_USAGE,
  async run(argv) {
    // The CLI's one read of its environment; the cluster's children get a copy of it.
    const env = { ...process.env };
    const opts = parseCacheBenchOptions(argv, env, process.stdout.isTTY === true, process.cwd());
    const { human, io } = benchConsole('cache', opts);
    const started = Date.now();
    const report = await runCacheBench(opts, env, io);
    human.write(`${formatCacheReport(report)}\n`);
    human.write(elapsedLine(started));
    emitReport(opts, report);
    return 0;
  },
};
