import type { CliCommand } from '../command';
import { UP_COMMAND } from './up.command';
import { BENCH_BATCHING_COMMAND } from './bench-batching.command';
import { BENCH_CACHE_COMMAND } from './bench-cache.command';
import { BENCH_REDIS_COST_COMMAND } from './bench-redis-cost.command';
import { BENCH_TRACING_COMMAND } from './bench-tracing.command';
import { BENCH_COMPARE_COMMAND } from './bench-compare.command';
import { BENCH_ENGINE_COMMAND } from './bench-engine.command';
import { BENCH_FAIRNESS_COMMAND } from './bench-fairness.command';
import { GENERATE_COMMAND } from './generate.command';
import { MODELS_FORGE_COMMAND } from './models-forge.command';
import { MODELS_IMPORT_LLAMA2C_COMMAND } from './models-import-llama2c.command';
import { MODELS_EXPORT_GGUF_COMMAND } from './models-export-gguf.command';
import { BENCH_TOKENIZE_COMMAND } from './bench-tokenize.command';
import { MODELS_INSPECT_COMMAND } from './models-inspect.command';
import { MODELS_QUANTIZE_COMMAND } from './models-quantize.command';
import { MODELS_PRUNE_COMMAND } from './models-prune.command';
import { MODELS_EVAL_COMMAND } from './models-eval.command';

/**
 * Every `hotpath` sub-command. Each lives in its own `*.command.ts` file; add new ones here.
 */
export const COMMANDS: readonly CliCommand[] = [
  UP_COMMAND,
  MODELS_FORGE_COMMAND,
  MODELS_IMPORT_LLAMA2C_COMMAND,
  MODELS_EXPORT_GGUF_COMMAND,
  MODELS_INSPECT_COMMAND,
  MODELS_QUANTIZE_COMMAND,
  MODELS_PRUNE_COMMAND,
  MODELS_EVAL_COMMAND,
  GENERATE_COMMAND,
  BENCH_BATCHING_COMMAND,
  BENCH_CACHE_COMMAND,
  BENCH_REDIS_COST_COMMAND,
  BENCH_TRACING_COMMAND,
  BENCH_COMPARE_COMMAND,
  BENCH_ENGINE_COMMAND,
  BENCH_TOKENIZE_COMMAND,
  BENCH_FAIRNESS_COMMAND,
];
