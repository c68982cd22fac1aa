import { createConnection } from 'node:net';
import { ManagedProcess, type ExitInfo } from '@hotpath/process-kit';
import { pingRedis } from './redis-ping';
import { REDIS_START_TIMEOUT_MS, REDIS_STOP_TIMEOUT_MS } from './timeouts';

/** Sends one inline command over a raw socket and resolves with the first reply chunk ('' on failure). */
export function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let got = '';
    const done = (): void => {
      s.destroy();
      resolve(got);
    };
    s.setTimeout(timeoutMs, done);
    s.on('error', done);
    s.on('connect', () => s.write(`${command}\r\n`));
    s.on('data', (d) => {
      got += d.toString();
      // A bulk reply ($<len>) may come in several chunks: wait for its announced length.
      const m = /^\$(\d+)\r\n/.exec(got);
      if (!m || got.length >= m[0].length + Number(m[1]) + 2) done();
    });
  });
}

/** Polls `check` every 50 ms until it is true, or throws after `timeoutMs` naming `what`. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * What a server keeps across a restart:
 * - `none`: nothing (no AOF, no RDB snapshots): test queues and cluster nodes;
 * - `aof-always`: the append-only file fsync'd on every write: a server killed with SIGKILL comes
 *   back with every acknowledged write (tests of Redis outages);
 * - `aof-everysec`: fsync once a second (`hotpath up`: at most a second of writes lost to a power
 *   cut, none to a clean stop).
 */
export type RedisPersistence = 'none' | 'aof-always' | 'aof-everysec';

/** A plain `redis-server` on loopback. */
export interface RedisServerOptions {
  port: number;
  /** Working directory: the AOF, `nodes.conf` or a Sentinel's config live here. */
  dir: string;
  /** Default `none`. */
  persistence?: RedisPersistence;
  /** Where Redis writes its log (default: its stdout, kept by {@link RedisProcess.logs}). */
  logFile?: string;
  /** More flags, after the common ones (cluster mode, replication). */
  extraArgs?: readonly string[];
  /** Own process group, so Ctrl-C in a terminal does not reach Redis before its clients drained. */
  detached?: boolean;
  /** The server must not keep this process alive (it may outlive it). */
  unref?: boolean;
}

const PERSISTENCE_FLAGS: Record<RedisPersistence, readonly string[]> = {
  none: ['--appendonly', 'no', '--save', ''],
  'aof-always': ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
  'aof-everysec': ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
};

/** The command line of a plain server: loopback only, the port, the folder, the persistence. */
export function redisServerArgs(o: RedisServerOptions): string[] {
  return [
    ...['--port', String(o.port), '--bind', '127.0.0.1', '--protected-mode', 'no', '--dir', o.dir],
    ...PERSISTENCE_FLAGS[o.persistence ?? 'none'],
    ...(o.logFile ? ['--logfile', o.logFile] : []),
    ...(o.extraArgs ?? []),
  ];
}

/**
 * A `redis-server` child (plain server, cluster node or Sentinel), the one way this repository
 * starts Redis: its output kept for error messages, readiness by PING, stop by SIGTERM (Redis's
 * SHUTDOWN) with the SIGKILL fallback of {@link REDIS_STOP_TIMEOUT_MS}.
 */
export class RedisProcess {
  readonly process: ManagedProcess;

  constructor(
    readonly port: number,
    args: readonly string[],
    cwd: string,
    opts: { detached?: boolean; unref?: boolean } = {},
  ) {
    this.process = ManagedProcess.start({
      name: `redis-${port}`,
      command: 'redis-server',
      args,
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      detached: opts.detached,
      unref: opts.unref,
    });
  }

  /** Starts a plain server (see {@link redisServerArgs}); call {@link ready} next. */
  static server(o: RedisServerOptions): RedisProcess {
    return new RedisProcess(o.port, redisServerArgs(o), o.dir, o);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process.running;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get exited(): Promise<ExitInfo> {
    return this.process.exited;
  }

  logs(): string {
    return this.process.logs();
  }

  /** Resolves once it answers PING; throws with its output if it dies or takes longer than `timeoutMs`. */
  async ready(timeoutMs = REDIS_START_TIMEOUT_MS): Promise<void> {
    await until(
      async () => {
        if (!this.running) throw new Error(`redis-server on port ${this.port} exited`);
        return (await pingRedis(this.url, 500)) === undefined;
      },
      timeoutMs,
      `redis-server on port ${this.port}`,
    ).catch((err: unknown) => {
      this.process.killNow();
      throw new Error(`${(err as Error).message}\n${this.logs().slice(-4000)}`);
    });
  }

  /** SIGKILL: the abrupt death a failover or durability test needs. */
  async kill(): Promise<void> {
    await this.process.kill();
  }

  /** SIGTERM (Redis shuts down cleanly, flushing its AOF), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = REDIS_STOP_TIMEOUT_MS): Promise<void> {
    await this.process.stop({ timeoutMs });
  }
}
