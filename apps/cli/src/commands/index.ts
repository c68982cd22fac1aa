import { BENCH_COMMANDS } from '@hotpath/bench';
import type { CliCommand } from '@hotpath/cli-kit';
import { UP_COMMAND } from './up.command';
import { GENERATE_COMMAND } from './generate.command';
import { MODELS_FORGE_COMMAND } from './models-forge.command';
import { MODELS_IMPORT_LLAMA2C_COMMAND } from './models-import-llama2c.command';
import { MODELS_EXPORT_GGUF_COMMAND } from './models-export-gguf.command';
import { MODELS_INSPECT_COMMAND } from './models-inspect.command';
import { MODELS_QUANTIZE_COMMAND } from './models-quantize.command';
import { MODELS_PRUNE_COMMAND } from './models-prune.command';
import { MODELS_EVAL_COMMAND } from './models-eval.command';

/**
 * Every `hotpath` sub-command. Each lives in its own `*.command.ts` file; add new ones here. The
 * `bench …` commands live in the bench library (`libs/bench`).
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
  ...BENCH_COMMANDS,
];
