import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@hotpath/ports';
import { RedisProcess, rawCommand, until } from './redis-process';

/** Settings of {@link LocalRedisCluster.start}. */
export interface LocalClusterOptions {
  /** Folder for the nodes' files (one sub-folder per node). */
  dir: string;
  /** Masters (default 3); each gets `replicas` replicas (default 1). */
  masters?: number;
  replicas?: number;
  /** `cluster-node-timeout`: how long a master may be silent before its replica takes over (default 1000). */
  nodeTimeoutMs?: number;
}

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNode {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** A replica's master (`CLUSTER NODES` id); '' for masters. */
  masterId: string;
  /** Slot ranges served (masters), e.g. [[0, 5460]]. */
  slots: [number, number][];
  failed: boolean;
}

/**
 * A real Redis Cluster on loopback for tests, benches and `hotpath up --redis-cluster`: `masters`
 * `redis-server --cluster-enabled yes` processes plus their replicas on free ports, joined with
 * `redis-cli --cluster create`, without persistence (a killed master's data survives only on its
 * replica, which is what a failover test must prove). {@link stop} ends every node.
 */
export class LocalRedisCluster {
  private constructor(
    readonly nodes: RedisProcess[],
    readonly dir: string,
    private readonly replicasPerMaster: number,
    /** `redis-server` arguments every node gets besides its port and folder. */
    private readonly nodeArgs: readonly string[],
  ) {}

  /** Comma-separated seed URLs of every node (what `REDIS_URL` takes with `REDIS_MODE=cluster`). */
  get url(): string {
    return this.nodes.map((n) => `redis://127.0.0.1:${n.port}`).join(',');
  }

  static async start(opts: LocalClusterOptions): Promise<LocalRedisCluster> {
    const masters = opts.masters ?? 3;
    const total = masters * (1 + (opts.replicas ?? 1));
    const nodes: RedisProcess[] = [];
    const nodeArgs = [
      ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
      ...['--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 1000)],
      // A replica may take over at once, however long its master was away (tests kill masters).
      ...['--cluster-replica-validity-factor', '0'],
    ];
    const cluster = new LocalRedisCluster(nodes, opts.dir, opts.replicas ?? 1, nodeArgs);
    try {
      for (let i = 0; i < total; i++) {
        const port = await freePort();
        mkdirSync(cluster.nodeDir(port), { recursive: true });
        nodes.push(cluster.startNode(port));
      }
      await Promise.all(nodes.map((n) => n.ready()));
      const create = spawnSync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          '--cluster-replicas',
          String(opts.replicas ?? 1),
          '--cluster-yes',
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (create.status !== 0)
        throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`);
      await cluster.waitHealthy(30_000);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /**
   * Every live node reports `cluster_state:ok`, every slot is served by a live master, and every
   * such master has its replicas attached and in sync (`master_link_status:up`). After a failover
   * (a promoted replica has none left) pass `withReplicas: false`.
   */
  async waitHealthy(timeoutMs = 30_000, withReplicas = true): Promise<void> {
    await until(
      async () => {
        const live = this.nodes.filter((n) => n.running);
        const states = await Promise.all(live.map((n) => rawCommand(n.port, 'CLUSTER INFO')));
        if (!states.every((s) => s.includes('cluster_state:ok'))) return false;
        const topo = await this.topology();
        const served = topo
          .filter((n) => n.role === 'master' && !n.failed)
          .reduce((sum, n) => sum + n.slots.reduce((k, [a, b]) => k + b - a + 1, 0), 0);
        if (served !== 16_384) return false;
        if (!withReplicas) return true;
        const masters = topo.filter((n) => n.role === 'master' && !n.failed && n.slots.length > 0);
        const replicas = topo.filter((n) => n.role === 'replica' && !n.failed);
        if (masters.some((m) => replicas.filter((r) => r.masterId === m.id).length < this.replicasPerMaster))
          return false;
        const links = await Promise.all(replicas.map((r) => rawCommand(r.port, 'INFO replication')));
        return links.every((l) => l.includes('master_link_status:up'));
      },
      timeoutMs,
      'the Redis Cluster to be healthy',
    );
  }

  /** The cluster as a live node sees it. */
  async topology(): Promise<ClusterNode[]> {
    for (const n of this.nodes.filter((x) => x.running)) {
      const text = await rawCommand(n.port, 'CLUSTER NODES');
      if (text.startsWith('$')) return parseClusterNodes(text.slice(text.indexOf('\n') + 1));
    }
    throw new Error('no live Redis Cluster node answers CLUSTER NODES');
  }

  /** The port of the live master serving `slot`. */
  async masterOf(slot: number): Promise<number> {
    const topo = await this.topology();
    const m = topo.find(
      (n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b),
    );
    if (!m) throw new Error(`no live master serves slot ${slot}`);
    return m.port;
  }

  /**
   * Starts a stopped (killed) node again on its port with its own files. A master whose slots were
   * failed over rejoins as a replica of the node that took them over, as when an operator or
   * Kubernetes restarts the failed node; its new master has a replica again.
   */
  async restart(port: number): Promise<void> {
    const i = this.nodes.findIndex((x) => x.port === port);
    if (i < 0) throw new Error(`no node on port ${port}`);
    if (this.nodes[i]?.running) throw new Error(`node ${port} is still running`);
    const node = this.startNode(port);
    this.nodes[i] = node;
    await node.ready();
  }

  private nodeDir(port: number): string {
    return join(this.dir, `node-${port}`);
  }

  private startNode(port: number): RedisProcess {
    return RedisProcess.server({ port, dir: this.nodeDir(port), extraArgs: this.nodeArgs });
  }

  node(port: number): RedisProcess {
    const n = this.nodes.find((x) => x.port === port);
    if (!n) throw new Error(`no node on port ${port}`);
    return n;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

/** Parses `CLUSTER NODES` output. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('$'))
    .map((line) => {
      const f = line.split(' ');
      const addr = f[1] ?? '';
      const flags = (f[2] ?? '').split(',');
      const port = Number(/:(\d+)/.exec(addr)?.[1] ?? 0);
      const slots = f.slice(8).flatMap((s): [number, number][] => {
        if (s.startsWith('[')) return [];
        const [a, b] = s.split('-').map(Number);
        return a === undefined || Number.isNaN(a) ? [] : [[a, b ?? a]];
      });
      return {
        id: f[0] ?? '',
        port,
        role: flags.includes('master') ? 'master' : 'replica',
        masterId: f[3] === '-' ? '' : (f[3] ?? ''),
        slots,
        failed: flags.includes('fail') || flags.includes('fail?'),
      } as ClusterNode;
    });
}
