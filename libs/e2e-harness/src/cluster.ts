import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import type { ClusterConfigInput } from '@hotpath/contracts';
import { parseClusterConfig } from '@hotpath/config';
import { freePort, retryOnPortClash } from '@hotpath/ports';
import {
  ShardQueues,
  WorkerRegistry,
  createRedisConnection,
  parseRedisTarget,
  waitForRedis,
  type RedisClient,
  type RedisMode,
  type RedisTarget,
} from '@hotpath/queue';
import { HotpathClient } from '@hotpath/job-client';
import type { ManagedProcess } from '@hotpath/process-kit';
import { guardDir, releaseDir, startGuarded } from './exit-guard';
import { RedisServer } from './redis-server';
import { WaitAborted, waitFor } from './wait';

/** Repository root, from `libs/e2e-harness/dist/`. */
export const REPO_ROOT = resolve(__dirname, '../../..');
export const API_MAIN = join(REPO_ROOT, 'apps/api/dist/main.js');
export const WORKER_MAIN = join(REPO_ROOT, 'apps/worker/dist/main.js');

/** A bound on a process's start, not a speed check: generous for loaded CI machines. */
const START_TIMEOUT_MS = 50_000;

/**
 * Seed URLs of a Redis Cluster shared by the test files of the runner's cluster pass
 * (`scripts/run-tests.mjs` starts it): when set, {@link E2eCluster.setUp} runs the processes in
 * `REDIS_MODE=cluster` against it instead of starting a private redis-server. Keys never collide:
 * every test cluster has its own model names.
 */
export const SHARED_REDIS_CLUSTER = process.env['HOTPATH_E2E_REDIS_CLUSTER'] || undefined;
const STOP_TIMEOUT_MS = 8_000;

/** Whether `${base}/readyz` answers 200 (the body is read, so the connection is released). */
async function answersReady(base: string): Promise<boolean> {
  const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/** A running API process. */
export interface ApiHandle {
  proc: ManagedProcess;
  port: number;
  url: string;
  /** Client without an API key (use `client.withKey(k)` for tenants). */
  client: HotpathClient;
}

/** A running worker process. */
export interface WorkerHandle {
  proc: ManagedProcess;
  metricsPort: number;
  metricsUrl: string;
}

export interface StartOptions {
  /** Extra or overriding environment variables. */
  env?: Record<string, string>;
  /** Label in log dumps. */
  name?: string;
}

export interface WorkerStartOptions extends StartOptions {
  /** Wait until BullMQ sees the worker on every model's shard 0 (default true). */
  waitReady?: boolean;
}

/** One model of a test config. */
export type ModelConfigInput = ClusterConfigInput['models'][number];

/** What a test file's {@link E2eCluster.hooks} do besides setting up and tearing down. */
export interface ClusterHooks {
  /** Runs first (servers the config or the processes point at). */
  prepare?: () => Promise<void>;
  /** Redis the test runs itself, read after `prepare` (see {@link E2eCluster.setUp}). */
  redisEnv?: () => Record<string, string>;
  /** Runs after `setUp`; by default one API and one worker start. */
  start?: () => Promise<unknown>;
  /** Runs before `tearDown` (connections the test opened to the cluster's Redis). */
  stop?: () => unknown;
  /** Runs after `tearDown`, even when it failed (servers the processes talked to). */
  cleanUp?: () => unknown;
  /** Bound on `before` (set up and start); forging models takes longer than the default 60 s. */
  startTimeoutMs?: number;
}

/** Test settings that keep every run short; a test file overrides what it exercises. */
const QUEUE_DEFAULTS = {
  attempts: 3,
  backoff_ms: 200,
  lock_duration_ms: 5000,
  stalled_interval_ms: 2000,
  max_stalled_count: 2,
  shutdown_grace_ms: 2000,
};

/**
 * One test file's private cluster: its own redis-server (AOF, restartable), its own config file
 * with unique model names, and the real `api` / `worker` processes started from their `dist/main.js`.
 * Everything it starts is stopped by {@link tearDown}, and SIGKILLed at process exit if that failed.
 */
export class E2eCluster {
  readonly suffix = randomUUID().slice(0, 8);
  /** The private redis-server; `undefined` on the shared Redis Cluster (see {@link redisTarget}). */
  redis!: RedisServer;
  /** Where the processes' Redis is, whatever its topology. */
  redisTarget!: RedisTarget;
  dir = '';
  configPath = '';
  config!: ClusterConfigInput;
  private readonly procs: ManagedProcess[] = [];
  private readonly apis: ApiHandle[] = [];
  private readonly workers: WorkerHandle[] = [];

  constructor(readonly label: string) {}

  /** A model name unique to this cluster, e.g. `sim-gen-1a2b3c4d`. */
  modelName(role: string): string {
    return `sim-${role}-${this.suffix}`;
  }

  /** The processes' Redis variables (`REDIS_URL`, and `REDIS_MODE` & co. for other topologies). */
  private redisEnv: Record<string, string> = {};

  /**
   * Starts Redis and writes the config (queue settings merged over short test defaults). `redisEnv`:
   * a Redis the test runs itself (a Redis Cluster or Sentinel group it kills nodes of), given as the
   * processes' variables; else the runner's shared Redis Cluster, else a private redis-server.
   */
  async setUp(config: ClusterConfigInput, opts: { redisEnv?: Record<string, string> } = {}): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), `hotpath-e2e-${this.label}-`));
    guardDir(this.dir);
    this.config = { ...config, queue: { ...QUEUE_DEFAULTS, ...config.queue } };
    // Fail here, not in a child process, when the test's own config is wrong.
    parseClusterConfig(this.config, 'e2e test config', this.dir);
    this.configPath = join(this.dir, 'cluster.yaml');
    await writeFile(this.configPath, stringify(this.config), 'utf8');
    if (!opts.redisEnv && !SHARED_REDIS_CLUSTER) this.redis = await RedisServer.start();
    this.redisEnv = opts.redisEnv ?? {
      REDIS_URL: SHARED_REDIS_CLUSTER ?? this.redis.url,
      ...(SHARED_REDIS_CLUSTER ? { REDIS_MODE: 'cluster' } : {}),
    };
    const e = this.redisEnv;
    this.redisTarget = parseRedisTarget({
      url: e['REDIS_URL'] ?? '',
      mode: (e['REDIS_MODE'] ?? 'standalone') as RedisMode,
      ...(e['REDIS_SENTINELS'] ? { sentinels: e['REDIS_SENTINELS'] } : {}),
      ...(e['REDIS_SENTINEL_NAME'] ? { sentinelName: e['REDIS_SENTINEL_NAME'] } : {}),
    });
  }

  /**
   * Registers the test file's `before` (`hooks.prepare`, set up with `config`, then `hooks.start`, by
   * default one API and one worker) and `after` (`hooks.stop`, tear-down, then `hooks.cleanUp`), so a file states only
   * what differs from the usual private cluster.
   */
  hooks(config: ClusterConfigInput | (() => ClusterConfigInput), hooks: ClusterHooks = {}): void {
    before(
      async () => {
        await hooks.prepare?.();
        await this.setUp(typeof config === 'function' ? config() : config, { redisEnv: hooks.redisEnv?.() });
        await (hooks.start ?? (() => this.startApiAndWorker()))();
      },
      { timeout: hooks.startTimeoutMs ?? 60_000 },
    );
    after(
      async () => {
        try {
          await hooks.stop?.();
          await this.tearDown();
        } finally {
          await hooks.cleanUp?.();
        }
      },
      { timeout: 30_000 },
    );
  }

  /** Starts one API and one worker (with `worker` options) side by side. */
  async startApiAndWorker(worker: WorkerStartOptions = {}): Promise<[ApiHandle, WorkerHandle]> {
    return Promise.all([this.startApi(), this.startWorker(worker)]);
  }

  /** A sim-backend model of the config: the test states only the settings it exercises. */
  simModel(name: string, settings: Omit<ModelConfigInput, 'name' | 'backend'> = {}): ModelConfigInput {
    return { name, backend: 'sim', ...settings };
  }

  /**
   * A sim model that runs one job at a time (one shard, one slot, no batching): jobs start in the
   * order the queue hands them out, and a running job holds the worker's only slot.
   */
  serialSimModel(name: string, settings: Omit<ModelConfigInput, 'name' | 'backend'> = {}): ModelConfigInput {
    return this.simModel(name, { shards: 1, concurrency: 1, batching: { enabled: false }, ...settings });
  }

  /** Whether the processes run against a Redis Cluster. */
  get onRedisCluster(): boolean {
    return this.redisTarget.mode === 'cluster';
  }

  /** A new client of the test's Redis (any topology); the caller disconnects it. */
  async redisClient(name = 'e2e-test'): Promise<RedisClient> {
    const conn = createRedisConnection(this.redisTarget, 'worker', name);
    conn.on('error', () => undefined);
    await waitForRedis(conn, 10_000);
    return conn;
  }

  private baseEnv(): Record<string, string> {
    return {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? this.dir,
      TMPDIR: tmpdir(),
      ...this.redisEnv,
      HOTPATH_CONFIG: this.configPath,
      HOTPATH_DATA_DIR: join(this.dir, 'data'),
      LOG_LEVEL: 'info',
    };
  }

  /** Starts a built app (`main`) with the cluster's environment plus `env`; tear-down stops it. */
  private spawnApp(name: string, main: string, env: Record<string, string>): ManagedProcess {
    const proc = startGuarded({
      name,
      command: process.execPath,
      args: ['--enable-source-maps', main],
      env: { ...this.baseEnv(), ...env },
      cwd: REPO_ROOT,
    });
    this.procs.push(proc);
    return proc;
  }

  /** Starts an API process and waits for `/readyz` 200. */
  async startApi(opts: StartOptions = {}): Promise<ApiHandle> {
    return retryOnPortClash(async () => {
      const port = await freePort();
      const proc = this.spawnApp(opts.name ?? `api-${this.apis.length + 1}`, API_MAIN, {
        PORT: String(port),
        HOST: '127.0.0.1',
        ...opts.env,
      });
      const url = `http://127.0.0.1:${port}`;
      await this.waitStarted(proc, `${proc.name} /readyz 200 on ${url}`, () => answersReady(url));
      const handle: ApiHandle = { proc, port, url, client: new HotpathClient(url) };
      this.apis.push(handle);
      return handle;
    });
  }

  /**
   * Starts a worker process. Ready means its `/readyz` answers 200, BullMQ lists one more worker
   * on shard 0 of every model (so a job enqueued afterwards is picked up), and its heartbeat is in
   * Redis (so the API counts its models as served and does not answer 503 `model_unavailable`).
   */
  async startWorker(opts: WorkerStartOptions = {}): Promise<WorkerHandle> {
    const before = opts.waitReady === false ? [] : await this.workerCounts();
    return retryOnPortClash(async () => {
      const metricsPort = await freePort();
      const proc = this.spawnApp(opts.name ?? `worker-${this.workers.length + 1}`, WORKER_MAIN, {
        METRICS_PORT: String(metricsPort),
        ...opts.env,
      });
      const base = `http://127.0.0.1:${metricsPort}`;
      const metricsUrl = `${base}/metrics`;
      if (opts.waitReady !== false) {
        await this.waitStarted(
          proc,
          `${proc.name} /readyz 200 on ${base} and BullMQ registration`,
          async () => {
            if (!(await answersReady(base))) return false;
            const now = await this.workerCounts();
            return now.every((n, i) => n > (before[i] ?? 0)) && (await this.hasHeartbeat(proc.pid));
          },
        );
      }
      const handle: WorkerHandle = { proc, metricsPort, metricsUrl };
      this.workers.push(handle);
      return handle;
    });
  }

  /** Whether the worker process `pid` has published its heartbeat. */
  private async hasHeartbeat(pid: number | undefined): Promise<boolean> {
    const conn = createRedisConnection(this.redisTarget, 'producer', 'e2e-harness');
    conn.on('error', () => undefined);
    try {
      await waitForRedis(conn, 5000);
      const workers = await new WorkerRegistry(conn).list();
      return workers.some((w) => w.pid === pid);
    } finally {
      conn.disconnect();
    }
  }

  /** BullMQ's count of connected workers on shard 0 of each configured model. */
  async workerCounts(): Promise<number[]> {
    // A short-lived connection: a long-lived one would keep this test process alive.
    const conn = createRedisConnection(this.redisTarget, 'producer', 'e2e-harness');
    conn.on('error', () => undefined);
    const queues = new ShardQueues(conn, () => undefined);
    try {
      await waitForRedis(conn, 5000);
      return await Promise.all(this.config.models.map((m) => queues.queue(m.name, 0).getWorkersCount()));
    } finally {
      await queues.close();
      conn.disconnect();
    }
  }

  private async waitStarted(
    proc: ManagedProcess,
    what: string,
    ready: () => Promise<boolean>,
  ): Promise<void> {
    try {
      await waitFor(
        async () => {
          if (!proc.running) throw new WaitAborted(`${proc.name} exited early: ${JSON.stringify(proc.exit)}`);
          return ready();
        },
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, what },
      );
    } catch (err) {
      proc.killNow();
      throw new Error(`${(err as Error).message}\n----- ${proc.name} output -----\n${proc.logs()}`);
    }
  }

  /** Every worker started so far (stopped ones included). */
  /** Every API started so far, in start order. */
  apiHandles(): readonly ApiHandle[] {
    return this.apis;
  }

  workerHandles(): readonly WorkerHandle[] {
    return this.workers;
  }

  /** The first API's client. */
  get client(): HotpathClient {
    const api = this.apis[0];
    if (!api) throw new Error('no API started');
    return api.client;
  }

  /**
   * Prints every process's captured output to stderr (called when a test fails). `matching`: first
   * the lines of each process that match it, wherever they are (the tail alone may not reach them).
   */
  printLogs(reason: string, opts: { matching?: RegExp } = {}): void {
    const parts = [`\n===== e2e cluster ${this.label}: logs after failure of "${reason}" =====`];
    for (const p of this.procs) {
      parts.push(
        `----- ${p.name} (pid ${p.pid}, ${p.running ? 'running' : `exited ${JSON.stringify(p.exit)}`}) -----`,
      );
      const { matching } = opts;
      if (matching) {
        const hits = p
          .logs()
          .split('\n')
          .filter((line) => matching.test(line));
        parts.push(`(${hits.length} line(s) matching ${String(matching)})`, ...hits.slice(-50), '(tail)');
      }
      parts.push(p.logs().slice(-60_000));
    }
    if (this.redis) parts.push('----- redis -----', this.redis.logs().slice(-10_000));
    process.stderr.write(parts.join('\n') + '\n');
  }

  /**
   * Registers a test that prints the cluster's logs when it fails. Every test gets a timeout so a
   * hung condition fails the test instead of the run.
   */
  test(
    name: string,
    fn: (t: TestContext) => Promise<void>,
    opts: { timeout?: number; todo?: string } = {},
  ): void {
    test(name, { timeout: opts.timeout ?? 30_000, todo: opts.todo }, async (t) => {
      try {
        await fn(t);
      } catch (err) {
        this.printLogs(name);
        throw err;
      }
    });
  }

  /** Stops every process (SIGTERM, bounded wait, SIGKILL), Redis, and deletes the temp folder. */
  async tearDown(): Promise<void> {
    const results = await Promise.allSettled(this.procs.map((p) => p.stop({ timeoutMs: STOP_TIMEOUT_MS })));
    await Promise.allSettled([this.redis?.close()]);
    if (this.dir) {
      await rm(this.dir, { recursive: true, force: true });
      releaseDir(this.dir);
    }
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) throw new Error(`tearDown: ${failed.length} stop(s) failed`);
  }
}
