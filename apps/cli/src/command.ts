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
