import { execFile } from 'node:child_process';
import { CLI_MAIN } from './ecosystem-env';

/** What `hotpath generate --json` prints (docs/cli.md). */
export interface CliGeneration {
  prompt_tokens: number[];
  tokens: number[];
  text: string;
}

/** Runs `node apps/cli/dist/main.js ...args` and resolves its stdout; rejects on a non-zero exit or timeout. */
export function runHotpath(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [CLI_MAIN, ...args],
      { timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, CI: 'true' } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`hotpath ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolvePromise(stdout);
      },
    );
  });
}

/** Greedy generation through `hotpath generate --json`. */
export async function hotpathGreedy(
  modelDir: string,
  prompt: string,
  maxTokens: number,
): Promise<CliGeneration> {
  const out = await runHotpath([
    'generate',
    '--model',
    modelDir,
    '--prompt',
    prompt,
    '--max-tokens',
    String(maxTokens),
    '--temperature',
    '0',
    '--json',
  ]);
  return JSON.parse(out) as CliGeneration;
}
