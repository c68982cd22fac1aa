import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@hotpath/ports';
import { processAlive } from '@hotpath/process-kit';
import { pingRedis } from './redis-ping';
import { RedisProcess } from './redis-process';
import { REDIS_START_TIMEOUT_MS, REDIS_STOP_TIMEOUT_MS } from './timeouts';

/** A Redis this process started (or adopted) and stops again. */
export interface EmbeddedRedis {
  url: string;
  source: 'embedded';
  /** One line for humans, e.g. `embedded redis-server (data in .hotpath/redis, AOF on)`. */
  description: string;
  /** SIGTERM (Redis flushes its AOF and exits), SIGKILL after {@link REDIS_STOP_TIMEOUT_MS}. Once only. */
  stop(): Promise<void>;
  /** The redis-server's process id (for CPU placement beside a worker); undefined if unknown. */
  pid?: number;
}

/** Recorded next to the data so a later start finds a redis-server an earlier one left running. */
interface EmbeddedState {
  pid: number;
  port: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

/** Stops an adopted redis-server known only by pid, with the same policy as {@link RedisProcess.stop}. */
async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + REDIS_STOP_TIMEOUT_MS;
  while (processAlive(pid) && Date.now() < until) await sleep(50);
  if (processAlive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * Starts `redis-server` from PATH with its data in `<dataDir>/redis` (`hotpath up`, the benches'
 * private Redis): loopback only, a free port, the append-only file on (`appendfsync everysec`) and
 * RDB snapshots off, so a restart keeps queued jobs. It runs in its own process group, so Ctrl-C in
 * the terminal reaches only this process and Redis outlives the workers' drain. A redis-server
 * that a crashed earlier run left behind on the same data is adopted rather than started twice on
 * one AOF.
 */
export async function startEmbeddedRedis(
  dataDir: string,
  readyTimeoutMs = REDIS_START_TIMEOUT_MS,
): Promise<EmbeddedRedis> {
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const stateFile = join(dir, 'hotpath-up.json');
  const logFile = join(dir, 'redis.log');
  const describe = `embedded redis-server (data in ${dir}, AOF on)`;
  const once = (stop: () => Promise<void>): (() => Promise<void>) => {
    let stopped: Promise<void> | undefined;
    return () => {
      stopped ??= stop().then(() => rmSync(stateFile, { force: true }));
      return stopped;
    };
  };

  const previous = readState(stateFile);
  if (previous && processAlive(previous.pid)) {
    const url = `redis://127.0.0.1:${previous.port}`;
    if ((await pingRedis(url)) === undefined) {
      return {
        url,
        source: 'embedded',
        description: `${describe}, adopted from an earlier run (pid ${previous.pid})`,
        stop: once(() => stopPid(previous.pid)),
        pid: previous.pid,
      };
    }
  }

  const server = RedisProcess.server({
    port: await freePort(),
    dir,
    persistence: 'aof-everysec',
    logFile,
    detached: true,
    // Our own event loop must not wait on Redis; shutdown is explicit.
    unref: true,
  });
  try {
    await server.ready(readyTimeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast log lines of ${logFile}:\n${tail(logFile, 10)}`);
  }
  writeFileSync(
    stateFile,
    JSON.stringify({ pid: server.pid ?? 0, port: server.port } satisfies EmbeddedState),
  );
  return {
    url: server.url,
    source: 'embedded',
    description: describe,
    stop: once(() => server.stop()),
    ...(server.pid ? { pid: server.pid } : {}),
  };
}

/** Whether `redis-server` runs from PATH. */
export function redisServerOnPath(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('redis-server', ['--version'], { timeout: 5000 }, (err) => resolve(!err));
  });
}
