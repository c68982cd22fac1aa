import { acceptLegacyJsonFile, type CliCommand } from '@hotpath/cli-kit';
import { BENCH_BATCHING_COMMAND } from './bench-batching.command';
import { BENCH_CACHE_COMMAND } from './bench-cache.command';
import { BENCH_COMPARE_COMMAND } from './bench-compare.command';
import { BENCH_ENGINE_COMMAND } from './bench-engine.command';
import { BENCH_FAIRNESS_COMMAND } from './bench-fairness.command';
import { BENCH_REDIS_COST_COMMAND } from './bench-redis-cost.command';
import { BENCH_TOKENIZE_COMMAND } from './bench-tokenize.command';
import { BENCH_TRACING_COMMAND } from './bench-tracing.command';

/** Before `--out FILE`, a bench took `--json FILE`: still accepted, with a warning on stderr. */
function acceptingLegacyJson(cmd: CliCommand): CliCommand {
  const name = cmd.path.join(' ');
  return {
    ...cmd,
    run: (argv) => cmd.run(acceptLegacyJsonFile(argv, name, (line) => process.stderr.write(`${line}\n`))),
  };
}

/** Every `hotpath bench …` sub-command, in the order `hotpath --help` lists them. */
export const BENCH_COMMANDS: readonly CliCommand[] = [
  BENCH_BATCHING_COMMAND,
  BENCH_CACHE_COMMAND,
  BENCH_REDIS_COST_COMMAND,
  BENCH_TRACING_COMMAND,
  BENCH_COMPARE_COMMAND,
  BENCH_ENGINE_COMMAND,
  BENCH_TOKENIZE_COMMAND,
  BENCH_FAIRNESS_COMMAND,
].map(acceptingLegacyJson);
