import { UsageError, type CliCommand } from './command';
import { COMMANDS } from './commands/index';

function help(): string {
  const lines = COMMANDS.map((c) => `  hotpath ${c.path.join(' ').padEnd(24)} ${c.summary}`);
  return `Usage: hotpath <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "hotpath <command> --help" for a command's options.`;
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
  const found = select(argv);
  if (!found) {
    console.error(`hotpath: unknown command "${argv.join(' ')}"\n\n${help()}`);
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
