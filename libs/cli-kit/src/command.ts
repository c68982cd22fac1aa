import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The `options` of `node:util` `parseArgs`: the flags a command takes. */
export type FlagOptions = NonNullable<ParseArgsConfig['options']>;
type ParseConfig<O extends FlagOptions, P extends boolean> = {
  args: string[];
  options: O;
  strict: true;
  allowPositionals: P;
};

function strictParse<O extends FlagOptions, P extends boolean>(
  config: ParseConfig<O, P>,
): ReturnType<typeof parseArgs<ParseConfig<O, P>>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError((err as Error).message, 'invalid_argument');
  }
}

/**
 * Parses `argv` strictly against `options`, positionals allowed; an unknown or malformed flag
 * becomes a {@link UsageError} `invalid_argument` carrying `parseArgs`' message.
 */
export function parseCommandArgs<const O extends FlagOptions>(
  argv: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<ParseConfig<O, true>>> {
  return strictParse({ args: [...argv], options, strict: true, allowPositionals: true });
}

/** Like {@link parseCommandArgs} for a command without positionals: a stray word is a usage error too. */
export function parseFlags<const O extends FlagOptions>(
  argv: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<ParseConfig<O, false>>>['values'] {
  return strictParse({ args: [...argv], options, strict: true, allowPositionals: false }).values;
}

/** One `hotpath` sub-command. `run` returns the process exit code. */
export interface CliCommand {
  /** Words that select it, e.g. `['models', 'forge']`. */
  path: readonly string[];
  summary: string;
  /** Usage text printed for `--help` and on a usage error. */
  usage: string;
  run(argv: readonly string[]): Promise<number>;
}

/** A bad flag or argument: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly code = 'invalid_argument',
  ) {
    super(message);
  }
}

/** The one model folder (DIR) a `models …` command takes, resolved; a usage error otherwise. */
export function singleModelDir(positionals: readonly string[]): string {
  if (positionals.length !== 1)
    throw new UsageError('exactly one model folder (DIR) is required', 'missing_model_dir');
  const dir = resolve(positionals[0] as string);
  if (!existsSync(dir)) throw new UsageError(`DIR ${dir} does not exist`, 'file_not_found');
  return dir;
}
