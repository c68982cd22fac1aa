export { type CliCommand, UsageError, parseCommandArgs, singleModelDir } from './command';
