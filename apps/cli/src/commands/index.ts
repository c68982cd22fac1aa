import type { CliCommand } from '../command';

/**
 * Every `hotpath` sub-command. Each lives in its own `*.command.ts` file; add new ones here.
 */
export const COMMANDS: readonly CliCommand[] = [];
