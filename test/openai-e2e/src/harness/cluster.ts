import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ClusterConfigInput } from '@hotpath/contracts';

/** Repository root, from `test/openai-e2e/dist/harness/`. */
export const REPO_ROOT = resolve(__dirname, '../../../..');
const API_MAIN = join(REPO_ROOT, 'apps/api/dist/main.js');
const WORKER_MAIN = join(REPO_ROOT, 'apps/worker/dist/main.js');
const START_TIMEOUT_MS = 30_000;

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** Polls `check` every 50 ms until it holds, for at most `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

class Child {
  private out = '';
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => this.keep(d));
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => this.keep(d));
    this.exited = new Promise((r) => proc.once('exit', () => r()));
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  logs(): string {
    return this.out;
  }

  killNow(): void {
    if (this.running) this.proc.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.killNow(), 8000);
    await this.exited;
    clearTimeout(timer);
  }

  private keep(d: string): void {
    this.out = (this.out + d).slice(-200_000);
  }
}

const alive = new Set<Child>();
process.on('exit', () => {
  for (const c of alive) c.killNow();
});

/** Settings of one test cluster. */
export interface ClusterOptions {
  config: ClusterConfigInput;
  apiEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
}

/**
 * A private cluster for one test file: its own `redis-server` (so webhook queues and dead letters
 * are not shared with other tests), its config file, and the real `api` and `worker` processes
 * started from their `dist/main.js` on free ports.
 */
export class TestCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'hotpath-openai-e2e-'));
  apiUrl = '';
  redisUrl = '';
  private readonly children: Child[] = [];

  async start(opts: ClusterOptions): Promise<void> {
    const configPath = join(this.dir, 'cluster.yaml');
    writeFileSync(configPath, stringify(opts.config), 'utf8');
    const redisPort = await freePort();
    this.redisUrl = `redis://127.0.0.1:${redisPort}`;
    this.spawn('redis', 'redis-server', [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
    ]);
    const base = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: this.dir,
      REDIS_URL: this.redisUrl,
      HOTPATH_CONFIG: configPath,
      HOTPATH_DATA_DIR: join(this.dir, 'data'),
      LOG_LEVEL: 'info',
    };
    const apiPort = await freePort();
    const metricsPort = await freePort();
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    const worker = this.spawn('worker', process.execPath, [WORKER_MAIN], {
      ...base,
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
      ...opts.workerEnv,
    });
    const api = this.spawn('api', process.execPath, [API_MAIN], {
      ...base,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      ...opts.apiEnv,
    });
    try {
      await waitFor(
        'api /readyz',
        async () => api.running && (await ok(`${this.apiUrl}/readyz`)),
        START_TIMEOUT_MS,
      );
      await waitFor(
        'worker /readyz',
        async () => worker.running && (await ok(`http://127.0.0.1:${metricsPort}/readyz`)),
        START_TIMEOUT_MS,
      );
    } catch (err) {
      this.printLogs();
      throw err;
    }
  }

  /** Every child's output, for a failing test. */
  printLogs(): void {
    for (const c of this.children)
      process.stderr.write(`----- ${c.name} -----\n${c.logs().slice(-20_000)}\n`);
  }

  async stop(): Promise<void> {
    // Processes first (they hold Redis connections), Redis last.
    const redis = this.children.filter((c) => c.name === 'redis');
    await Promise.allSettled(this.children.filter((c) => c.name !== 'redis').map((c) => c.stop()));
    await Promise.allSettled(redis.map((c) => c.stop()));
    for (const c of this.children) alive.delete(c);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private spawn(name: string, command: string, args: string[], env?: Record<string, string>): Child {
    const child = new Child(
      name,
      spawn(command, args, {
        cwd: REPO_ROOT,
        env: env ?? { PATH: process.env['PATH'] ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    this.children.push(child);
    alive.add(child);
    return child;
  }
}

async function ok(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status === 200;
}
