import { UsageError, type CliCommand } from '@hotpath/cli-kit';
import { COMMANDS } from './commands/index';
import { version } from '../package.json';

/** The command list; `group` (e.g. `models`) keeps only the commands under that word. */
function help(group?: string): string {
  const shown = group === undefined ? COMMANDS : COMMANDS.filter((c) => c.path[0] === group);
  const lines = shown.map((c) => `  hotpath ${c.path.join(' ').padEnd(24)} ${c.summary}`);
  const usage = group === undefined ? 'hotpath <command> [options]' : `hotpath ${group} <command> [options]`;
  const global =
    group === undefined
      ? '\n\nOptions:\n  --version, -V    print the version\n  --help, -h       print this help'
      : '';
  return `Usage: ${usage}\n\nCommands:\n${lines.join('\n')}${global}\n\nRun "hotpath <command> --help" for a command's options.`;
}

/** `models`, `bench`: the first words shared by several commands. */
function isGroup(word: string | undefined): word is string {
  return word !== undefined && COMMANDS.filter((c) => c.path.length > 1 && c.path[0] === word).length > 0;
}

function select(argv: readonly string[]): { cmd: CliCommand; rest: readonly string[] } | undefined {
  // Longest matching word path wins ("models forge" before "models").
  const sorted = [...COMMANDS].sort((a, b) => b.path.length - a.path.length);
  for (const cmd of sorted) {
    if (cmd.path.every((w, i) => argv[i] === w)) return { cmd, rest: argv.slice(cmd.path.length) };
  }
  return undefined;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(help());
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') {
    console.log(version);
    return 0;
  }
  const found = select(argv);
  if (!found) {
    const group = isGroup(argv[0]) ? argv[0] : undefined;
    // `hotpath models` alone (or with --help) lists what it groups; an unknown word is a usage error.
    if (group !== undefined && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
      console.log(help(group));
      return 0;
    }
    console.error(`hotpath: unknown command "${argv.join(' ')}"\n\n${help(group)}`);
    return 2;
  }
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    console.log(found.cmd.usage);
    return 0;
  }
  try {
    return await found.cmd.run(found.rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(
        `hotpath ${found.cmd.path.join(' ')}: ${err.message} [${err.code}]\n\n${found.cmd.usage}`,
      );
      return 2;
    }
    const e = err as Error & { code?: string };
    console.error(`hotpath ${found.cmd.path.join(' ')}: ${e.message}${e.code ? ` [${e.code}]` : ''}`);
    return 1;
  }
}

let settled = false;
main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  )
  .finally(() => (settled = true));
// Nothing left to wake the command up (a promise it awaits can no longer settle): Node would exit
// 0 without its output. Say so and fail instead.
process.once('beforeExit', () => {
  if (settled) return;
  console.error('hotpath: the command stopped before finishing (its work was left pending)');
  process.exitCode = 1;
});
