import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@hotpath/ports';
import { RedisProcess } from '@hotpath/redis-local';
import { guardDir, guardProcess, releaseDir, releaseProcess } from './exit-guard';

/**
 * A private `redis-server` for one test file, durable across restarts: AOF on with an fsync per
 * write and no RDB snapshots, so a job acknowledged with 202 survives SHUTDOWN or SIGKILL, and a
 * restart on the same port and folder brings every key back.
 */
export class RedisServer {
  private proc: RedisProcess | undefined;
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
    const proc = RedisProcess.server({
      port: this.port,
      dir: this.dir,
      persistence: 'aof-always',
      unref: true,
    });
    this.proc = proc;
    guardProcess(proc.process);
    void proc.exited.then(() => releaseProcess(proc.process));
    await proc.ready();
  }

  /** Clean shutdown (SIGTERM means SHUTDOWN to Redis: the AOF is flushed, then it exits). */
  async stop(): Promise<void> {
    await this.proc?.stop();
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
