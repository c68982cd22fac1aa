import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisProcess } from '@hotpath/redis-local';

/**
 * A throwaway `redis-server`, for tests that stop and restart Redis: without persistence, or with
 * `aof` an append-only file fsync'd on every write, so a killed server comes back with its data.
 */
export class TestRedisServer {
  private proc: RedisProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'hotpath-api-redis-'));

  constructor(
    readonly port: number,
    private readonly opts: { aof?: boolean } = {},
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = RedisProcess.server({
      port: this.port,
      dir: this.dir,
      persistence: this.opts.aof ? 'aof-always' : 'none',
    });
    await this.proc.ready();
  }

  /** Kills the server and waits for the process to exit. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    await proc?.kill();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
