export {
  type CliCommand,
  type FlagOptions,
  UsageError,
  parseCommandArgs,
  parseFlags,
  singleModelDir,
} from './command';
export { acceptLegacyJsonFile } from './json-flag';
