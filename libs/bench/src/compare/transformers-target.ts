import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { HotpathClient } from '@hotpath/job-client';
import type { Sample, Sender } from '../load-generator';
import type { BenchTarget } from './bench-target';
import type { BenchPrompt } from './prompt-set';

const TIMEOUT_MS = 300_000;

/** Whether `@huggingface/transformers` can be loaded (it is a dev dependency of the repository). */
export function transformersAvailable(): boolean {
  try {
    require.resolve('@huggingface/transformers');
    return true;
  } catch {
    return false;
  }
}

/**
 * `transformers.js`: the minimal server of `transformers-server.ts` as a child process, serving the
 * same model folders from local files, one request at a time. Its log goes to
 * `<workDir>/bench-transformers.log`.
 */
export async function startTransformersTarget(opts: {
  generateDir: string;
  embedDir: string | undefined;
  prompts: readonly BenchPrompt[];
  texts: readonly string[];
  workDir: string;
  readyTimeoutMs: number;
}): Promise<BenchTarget> {
  const args = [join(__dirname, 'transformers-server.js'), '--generate', opts.generateDir];
  if (opts.embedDir) args.push('--embed', opts.embedDir);
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const log = createWriteStream(join(opts.workDir, 'bench-transformers.log'), { flags: 'a' });
  child.stderr.pipe(log);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `transformers.js server exited (${signal ?? `code ${code}`})`;
      resolve();
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error('transformers.js server did not start in time')),
      opts.readyTimeoutMs,
    );
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"port"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    void exitedPromise.then(() => {
      clearTimeout(timer);
      reject(
        new Error(
          `${exited ?? 'transformers.js server exited'} while loading; see ${opts.workDir}/bench-transformers.log`,
        ),
      );
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exitedPromise;
    throw err;
  });
  const base = `http://127.0.0.1:${port}`;
  // The same JSON client as the Hotpath targets, so the embed comparison is like for like.
  const embedClient = new HotpathClient(base);

  return {
    system: 'transformers.js',
    generate(): Sender {
      let n = 0;
      return async (origin): Promise<Sample> => {
        const p = opts.prompts[n++ % opts.prompts.length] as BenchPrompt;
        const fail = (error: string): Sample => ({ ok: false, latencyMs: performance.now() - origin, error });
        try {
          const res = await fetch(`${base}/generate`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ prompt: p.prompt, max_new_tokens: p.maxTokens }),
            signal: AbortSignal.timeout(TIMEOUT_MS),
          });
          if (!res.ok || !res.body) return fail(`HTTP ${res.status}`);
          const decoder = new TextDecoder();
          let buf = '';
          let ttftMs: number | undefined;
          for await (const chunk of res.body) {
            ttftMs ??= performance.now() - origin;
            buf += decoder.decode(chunk as Uint8Array, { stream: true });
          }
          const last = buf.trimEnd().split('\n').pop() ?? '';
          const done = JSON.parse(last) as { done?: boolean; tokens?: number };
          if (!done.done) return fail('stream ended without done');
          return { ok: true, latencyMs: performance.now() - origin, ttftMs, tokens: done.tokens ?? 0 };
        } catch (err) {
          return fail(exited ?? (err as Error).message);
        }
      };
    },
    embed(): Sender | undefined {
      if (!opts.embedDir) return undefined;
      let n = 0;
      return async (origin): Promise<Sample> => {
        const text = opts.texts[n++ % opts.texts.length] as string;
        try {
          const res = await embedClient.request('POST', '/embed', {
            body: { texts: [text] },
            timeoutMs: TIMEOUT_MS,
          });
          return res.status >= 200 && res.status < 300
            ? { ok: true, latencyMs: performance.now() - origin }
            : { ok: false, latencyMs: performance.now() - origin, error: `HTTP ${res.status}` };
        } catch (err) {
          return {
            ok: false,
            latencyMs: performance.now() - origin,
            error: exited ?? (err as Error).message,
          };
        }
      };
    },
    notes: () => [],
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitedPromise;
        clearTimeout(killer);
      }
      await new Promise((r) => log.end(r));
    },
  };
}
