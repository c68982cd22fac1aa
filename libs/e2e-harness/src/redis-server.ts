import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@hotpath/ports';
import { rawCommand } from '@hotpath/redis-local';
import { guardDir, releaseDir } from './exit-guard';
import { ManagedProcess } from './managed-process';
import { waitFor } from './wait';

/** One PING over a raw socket: true on `+PONG` (a server still loading its AOF answers `-LOADING`). */
export async function pingRedis(port: number, timeoutMs = 500): Promise<boolean> {
  return (await rawCommand(port, 'PING', timeoutMs)).startsWith('+PONG');
}

/**
 * A private `redis-server` for one test file, durable across restarts: AOF on with an fsync per
 * write and no RDB snapshots, so a job acknowledged with 202 survives SHUTDOWN or SIGKILL, and a
 * restart on the same port and folder brings every key back.
 */
export class RedisServer {
  private proc: ManagedProcess | undefined;
  private pastLogs = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'hotpath-e2e-redis-'));
    guardDir(dir);
    const server = new RedisServer(await freePort(), dir);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** (Re)starts the server on the same port and folder and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.proc?.running) throw new Error('redis-server is already running');
    if (this.proc) this.pastLogs += this.proc.logs();
    const proc = ManagedProcess.start({
      name: 'redis',
      command: 'redis-server',
      args: [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--protected-mode',
        'no',
      ],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      cwd: this.dir,
    });
    this.proc = proc;
    await waitFor(
      async () => {
        if (!proc.running) throw new Error(`redis-server exited: ${JSON.stringify(proc.exitInfo)}`);
        return pingRedis(this.port);
      },
      { timeoutMs: 10_000, what: `redis-server on port ${this.port}` },
    ).catch((err: unknown) => {
      proc.killNow();
      throw new Error(`${(err as Error).message}\n${proc.logs()}`);
    });
  }

  /** Clean shutdown (SIGTERM means SHUTDOWN to Redis: the AOF is flushed, then it exits). */
  async stop(): Promise<void> {
    await this.proc?.stop({ timeoutMs: 5000 });
  }

  /** Abrupt death; with `appendfsync always` nothing acknowledged is lost. */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  logs(): string {
    return this.pastLogs + (this.proc?.logs() ?? '');
  }

  /** Stops the server and deletes its folder. */
  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
    releaseDir(this.dir);
  }
}
