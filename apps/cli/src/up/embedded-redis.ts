import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '@hotpath/ports';
import { pingRedis } from './redis-ping';
import type { ResolvedRedis } from './redis-resolver';

/** Recorded next to the data so a later `hotpath up` finds a redis-server an earlier one left running. */
interface EmbeddedState {
  pid: number;
  port: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readState(file: string): EmbeddedState | undefined {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<EmbeddedState>;
    return typeof s.pid === 'number' && typeof s.port === 'number' ? { pid: s.pid, port: s.port } : undefined;
  } catch {
    return undefined;
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * `SHUTDOWN` makes Redis fsync the AOF before it exits, so every acknowledged write survives. The
 * connection drops as the server exits; that error is the expected answer.
 */
async function shutdownRedis(port: number, pid: number, timeoutMs: number): Promise<void> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.call('SHUTDOWN');
  } catch {
    // expected: the server closes the connection while shutting down
  } finally {
    client.disconnect();
  }
  const until = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < until) await sleep(50);
  if (alive(pid)) {
    process.kill(pid, 'SIGTERM');
    const hard = Date.now() + 5000;
    while (alive(pid) && Date.now() < hard) await sleep(50);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
}

/**
 * Starts `redis-server` from PATH for `hotpath up`: loopback only, a free port, data in
 * `<dataDir>/redis` with the append-only file on (`appendfsync everysec`) and RDB snapshots off, so a
 * restart of `hotpath up` keeps queued jobs. It runs in its own process group, so Ctrl-C in the
 * terminal reaches `hotpath up` alone and Redis outlives the workers' drain. A redis-server that a
 * crashed earlier run left behind on the same data is adopted rather than started twice on one AOF.
 */
export async function startEmbeddedRedis(dataDir: string, readyTimeoutMs = 10_000): Promise<ResolvedRedis> {
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const stateFile = join(dir, 'hotpath-up.json');
  const logFile = join(dir, 'redis.log');
  const describe = `embedded redis-server (data in ${dir}, AOF on)`;

  const previous = readState(stateFile);
  if (previous && alive(previous.pid)) {
    const url = `redis://127.0.0.1:${previous.port}`;
    if ((await pingRedis(url)) === undefined) {
      return {
        url,
        source: 'embedded',
        description: `${describe}, adopted from an earlier run (pid ${previous.pid})`,
        stop: async () => {
          await shutdownRedis(previous.port, previous.pid, 10_000);
          rmSync(stateFile, { force: true });
        },
      };
    }
  }

  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--logfile',
      logFile,
      '--daemonize',
      'no',
    ],
    { detached: true, stdio: 'ignore' },
  );
  const pid = child.pid;
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `signal ${signal}` : `code ${code}`;
  });
  child.once('error', (err) => {
    exited = err.message;
  });
  const url = `redis://127.0.0.1:${port}`;
  const until = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited !== undefined || pid === undefined) {
      throw new Error(
        `redis-server exited at start (${exited ?? 'no pid'}); last log lines:\n${tail(logFile, 10)}`,
      );
    }
    if ((await pingRedis(url, 500)) === undefined) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING within ${readyTimeoutMs} ms; see ${logFile}`);
    }
    await sleep(100);
  }
  // Our own event loop must not wait on Redis; shutdown is explicit.
  child.unref();
  writeFileSync(stateFile, JSON.stringify({ pid, port } satisfies EmbeddedState));
  let stopped: Promise<void> | undefined;
  return {
    url,
    source: 'embedded',
    description: describe,
    stop: () => {
      stopped ??= shutdownRedis(port, pid, 10_000).then(() => {
        if (existsSync(stateFile)) rmSync(stateFile, { force: true });
      });
      return stopped;
    },
  };
}

/** Whether `redis-server` runs from PATH. */
export function redisServerOnPath(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('redis-server', ['--version'], { timeout: 5000 }, (err) => resolve(!err));
  });
}
