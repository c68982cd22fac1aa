import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@hotpath/ports';
import { RedisProcess, rawCommand, until } from './redis-process';

/** Settings of {@link LocalSentinelGroup.start}. */
export interface LocalSentinelOptions {
  dir: string;
  /** Name the Sentinels monitor the primary under (default `hotpath`). */
  name?: string;
  /** Sentinels (default 1, quorum 1; use 3 for a majority-based setup). */
  sentinels?: number;
  /** `down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
}

/** A plain redis-server without persistence in `<dir>/<role>-<port>`, answering PING. */
async function startServer(base: string, role: string, extra: string[]): Promise<RedisProcess> {
  const port = await freePort();
  const dir = join(base, `${role}-${port}`);
  mkdirSync(dir, { recursive: true });
  const p = RedisProcess.server({ port, dir, extraArgs: extra });
  try {
    await p.ready();
  } catch (err) {
    await p.stop();
    throw err;
  }
  return p;
}

/** Resolves once `replica` reports its link to the primary up. */
function synced(replica: RedisProcess): Promise<void> {
  return until(
    async () => (await rawCommand(replica.port, 'INFO replication')).includes('master_link_status:up'),
    10_000,
    'the replica to sync',
  );
}

/**
 * A Sentinel-managed primary for tests: one primary, one replica and `sentinels` Sentinels
 * (`redis-server --sentinel`), all on free loopback ports, without persistence.
 */
export class LocalSentinelGroup {
  private readonly extra: RedisProcess[] = [];

  private constructor(
    readonly primary: RedisProcess,
    readonly replica: RedisProcess,
    readonly sentinels: RedisProcess[],
    readonly name: string,
    private readonly dir: string,
  ) {}

  /** `REDIS_SENTINELS` for this group. */
  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  static async start(opts: LocalSentinelOptions): Promise<LocalSentinelGroup> {
    const name = opts.name ?? 'hotpath';
    const started: RedisProcess[] = [];
    const server = async (role: string, extra: string[]): Promise<RedisProcess> => {
      const p = await startServer(opts.dir, role, extra);
      started.push(p);
      return p;
    };
    try {
      const primary = await server('primary', []);
      const replica = await server('replica', ['--replicaof', '127.0.0.1', String(primary.port)]);
      await synced(replica);
      const count = opts.sentinels ?? 1;
      const quorum = Math.floor(count / 2) + 1;
      const sentinels: RedisProcess[] = [];
      for (let i = 0; i < count; i++) {
        const port = await freePort();
        const dir = join(opts.dir, `sentinel-${port}`);
        mkdirSync(dir, { recursive: true });
        const conf = join(dir, 'sentinel.conf');
        writeFileSync(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            'protected-mode no',
            `dir ${dir}`,
            `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
            `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
            `sentinel failover-timeout ${name} 10000`,
            `sentinel parallel-syncs ${name} 1`,
            '',
          ].join('\n'),
        );
        const s = new RedisProcess(port, [conf, '--sentinel'], dir);
        started.push(s);
        await s.ready();
        sentinels.push(s);
      }
      return new LocalSentinelGroup(primary, replica, sentinels, name, opts.dir);
    } catch (err) {
      await Promise.all(started.map((p) => p.stop()));
      throw err;
    }
  }

  /** The port the Sentinels currently name as primary. */
  async primaryPort(): Promise<number> {
    for (const s of this.sentinels.filter((x) => x.running)) {
      const r = await rawCommand(s.port, `SENTINEL get-master-addr-by-name ${this.name}`);
      const m = /\r\n(\d+)\r\n$/.exec(r);
      if (m) return Number(m[1]);
    }
    throw new Error('no Sentinel names a primary');
  }

  /** Starts one more replica of the current primary (after a failover left it without one). */
  async addReplica(): Promise<RedisProcess> {
    const primary = await this.primaryPort();
    const p = await startServer(this.dir, 'replica', ['--replicaof', '127.0.0.1', String(primary)]);
    this.extra.push(p);
    await synced(p);
    return p;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.extra, this.replica, this.primary].map((p) => p.stop()));
  }
}
