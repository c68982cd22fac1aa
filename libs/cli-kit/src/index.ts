export { type CliCommand, UsageError, parseCommandArgs, singleModelDir } from './command';
export { acceptLegacyJsonFile } from './json-flag';
