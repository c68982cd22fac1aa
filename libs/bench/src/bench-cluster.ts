import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, retryOnPortClash } from '@hotpath/ports';
import { appEntry, ServiceStartError, ServiceSupervisor, type LogSink } from '@hotpath/process-kit';
import { confineBesideWorker } from '@hotpath/model-runtime';
import { LOCAL_REDIS_URL, pingRedis, redisServerOnPath, startEmbeddedRedis } from '@hotpath/redis-local';

/** The Redis a bench run uses, and whether it is private to the run. */
export interface BenchRedis {
  url: string;
  /** Started by the bench: nothing else uses it, so model names need no run suffix. */
  private: boolean;
  description: string;
  stop(): Promise<void>;
  /** Process id of a private redis-server. */
  pid?: number;
}

/**
 * A private `redis-server` (from PATH) with its data in `workDir`, so a bench never touches another
 * cluster's queues; else `fallbackUrl` (an explicit `--redis-url`, `REDIS_URL`) or 127.0.0.1:6379
 * when it answers.
 */
export async function startBenchRedis(
  workDir: string,
  explicitUrl?: string,
  fallbackUrl?: string,
): Promise<BenchRedis> {
  const shared = async (url: string, why: string): Promise<BenchRedis> => {
    const err = await pingRedis(url);
    if (err !== undefined) throw new Error(`Redis at ${url} does not answer PING (${err})`);
    return { url, private: false, description: why, stop: async () => undefined };
  };
  if (explicitUrl) return shared(explicitUrl, 'from --redis-url');
  if (await redisServerOnPath()) {
    const r = await startEmbeddedRedis(workDir);
    return {
      url: r.url,
      private: true,
      description: 'private redis-server',
      stop: () => r.stop(),
      ...(r.pid ? { pid: r.pid } : {}),
    };
  }
  return shared(fallbackUrl ?? LOCAL_REDIS_URL, fallbackUrl ? 'from REDIS_URL' : 'found on 127.0.0.1:6379');
}

/**
 * Ends a bench run: stops its Redis (a failure to stop is only warned about), then removes
 * `workDir` after a successful run, or keeps it and says where the logs of the failed `what` are.
 */
export async function endBenchRun(
  redis: BenchRedis | undefined,
  workDir: string,
  ok: boolean,
  io: { warn(line: string): void },
  what = 'run',
): Promise<void> {
  await redis?.stop().catch((err: unknown) => io.warn(`stopping Redis: ${(err as Error).message}`));
  if (ok) rmSync(workDir, { recursive: true, force: true });
  else io.warn(`logs of the failed ${what} are in ${workDir}`);
}

/** One bench run: its private folder (configs, logs) and its Redis. */
export interface BenchRun {
  readonly workDir: string;
  readonly redis: BenchRedis;
  /**
   * Writes `config` to `<workDir>/<name>.json` and starts the API and a worker serving it, with the
   * run's Redis and data folder; `env` is set for both children (e.g. API keys).
   */
  startCluster(name: string, config: unknown, env?: NodeJS.ProcessEnv): Promise<BenchCluster>;
}

/**
 * Runs `body` with a fresh work folder (`<tmp>/<prefix>*`) and the bench's Redis (see
 * {@link startBenchRedis}), then ends the run with {@link endBenchRun}: the folder is removed when
 * `body` succeeded, kept with its logs when it threw.
 */
export async function withBenchRun<T>(
  prefix: string,
  opts: { redisUrl?: string; dataDir: string },
  env: NodeJS.ProcessEnv,
  io: { progress(line: string): void; warn(line: string): void },
  body: (run: BenchRun) => Promise<T>,
): Promise<T> {
  const workDir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(opts.dataDir, { recursive: true });
  let ok = false;
  const redis = await startBenchRedis(workDir, opts.redisUrl, env['REDIS_URL']);
  io.progress(`Redis: ${redis.description} (${redis.url})`);
  const startCluster = (
    name: string,
    config: unknown,
    childEnv?: NodeJS.ProcessEnv,
  ): Promise<BenchCluster> => {
    const configPath = join(workDir, `${name}.json`);
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    return startBenchCluster({
      configPath,
      redisUrl: redis.url,
      dataDir: opts.dataDir,
      logDir: workDir,
      baseEnv: env,
      ...(childEnv ? { env: childEnv } : {}),
      ...(redis.pid ? { redisPid: redis.pid } : {}),
      readyTimeoutMs: 120_000,
    });
  };
  try {
    const result = await body({ workDir, redis, startCluster });
    ok = true;
    return result;
  } finally {
    await endBenchRun(redis, workDir, ok, io);
  }
}

/** API + worker child processes serving one cluster config. */
export interface BenchCluster {
  apiBase: string;
  /** The worker's metrics/health server. */
  metricsBase: string;
  /** A child died after start-up (the bench should stop). */
  failure(): string | undefined;
  stop(): Promise<void>;
}

/** Environment variables of the CLI's own that must not leak into the bench's children. */
const DROPPED_ENV = [
  'HOTPATH_API_KEYS',
  'HOTPATH_API_KEYS_FILE',
  'WORKER_SHARDS',
  'WORKER_ID',
  'PORT',
  'METRICS_PORT',
];

/**
 * Starts the API and one worker (the `hotpath up` supervisor, real child processes) on free loopback
 * ports for `configPath`, and waits for both `/readyz`. Their logs append to `<logDir>/bench-*.log`.
 */
export async function startBenchCluster(opts: BenchClusterOptions): Promise<BenchCluster> {
  // A port from freePort() can be taken by another process before the child binds it; the child then
  // dies with EADDRINUSE, and a second try on new ports settles it.
  return retryOnPortClash(() => startOnce(opts), { isClash: (err) => err instanceof PortClash });
}

/** Settings of {@link startBenchCluster}. */
export interface BenchClusterOptions {
  configPath: string;
  redisUrl: string;
  dataDir: string;
  logDir: string;
  baseEnv: NodeJS.ProcessEnv;
  /** Variables the bench sets for both children (after the CLI's own are dropped), e.g. API keys. */
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
  /** Run the apps built in this repository checkout instead of this CLI's (before/after comparisons). */
  appsFrom?: string;
  /** A private redis-server of the run, confined with the API beside the worker's pinned replicas. */
  redisPid?: number;
}

/** A child could not bind the port it was given (taken since freePort() found it free). */
class PortClash extends Error {}

async function startOnce(opts: BenchClusterOptions): Promise<BenchCluster> {
  const fromDir = (app: string): string | undefined =>
    opts.appsFrom && existsSync(join(opts.appsFrom, 'apps', app, 'dist', 'main.js'))
      ? join(opts.appsFrom, 'apps', app, 'dist', 'main.js')
      : undefined;
  const apiEntry = opts.appsFrom ? fromDir('api') : appEntry('api');
  const workerEntry = opts.appsFrom ? fromDir('worker') : appEntry('worker');
  if (!apiEntry || !workerEntry) {
    throw new Error(
      'the API or the worker is not built (apps/*/dist/main.js missing); run "npm run build" first',
    );
  }
  const [port, metricsPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = { ...opts.baseEnv };
  for (const k of DROPPED_ENV) delete env[k];
  Object.assign(env, {
    REDIS_URL: opts.redisUrl,
    HOTPATH_CONFIG: opts.configPath,
    HOTPATH_DATA_DIR: opts.dataDir,
    LOG_LEVEL: 'warn',
    ...opts.env,
  });
  const streams: WriteStream[] = [];
  const sink = (name: string): LogSink => {
    const s = createWriteStream(join(opts.logDir, `bench-${name}.log`), { flags: 'a' });
    streams.push(s);
    return { write: (_stream, line) => s.write(`${line}\n`) };
  };
  let failed: string | undefined;
  const hooks = {
    note: () => undefined,
    giveUp: (name: string, reason: string) => {
      failed = `${name} died: ${reason}`;
    },
  };
  const apiBase = `http://127.0.0.1:${port}`;
  const metricsBase = `http://127.0.0.1:${metricsPort}`;
  const services = [
    new ServiceSupervisor(
      {
        name: 'api',
        entry: apiEntry,
        env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
        sink: sink('api'),
        readyUrl: `${apiBase}/readyz`,
        readyTimeoutMs: opts.readyTimeoutMs,
      },
      hooks,
    ),
    new ServiceSupervisor(
      {
        name: 'worker',
        entry: workerEntry,
        // Like `hotpath up`: one worker on this host, so its single-thread replicas get cores of
        // their own (an explicit WORKER_CPU_PLACEMENT of the caller wins).
        env: {
          WORKER_CPU_PLACEMENT: 'auto',
          ...env,
          METRICS_PORT: String(metricsPort),
          METRICS_HOST: '127.0.0.1',
        },
        sink: sink('worker'),
        readyUrl: `${metricsBase}/readyz`,
        readyTimeoutMs: opts.readyTimeoutMs,
      },
      hooks,
    ),
  ];
  const stop = async (): Promise<void> => {
    await Promise.all(services.map((s) => s.stop(15_000)));
    await Promise.all(streams.map((s) => new Promise((r) => s.end(r))));
  };
  const starts = await Promise.allSettled(services.map((s) => s.start()));
  const errors = starts.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (errors.length > 0) {
    await stop();
    const message = errors
      .map((e) =>
        e instanceof ServiceStartError && e.lastLines.length > 0
          ? `${e.message}\n  ${e.lastLines.slice(-8).join('\n  ')}`
          : e.message,
      )
      .join('\n');
    const clash = errors.some(
      (e) => e instanceof ServiceStartError && e.lastLines.some((l) => l.includes('EADDRINUSE')),
    );
    throw clash ? new PortClash(message) : new Error(message);
  }
  const [api, worker] = services;
  if (worker?.pid && api?.pid) {
    // An optimisation only: without taskset the run goes on unconfined.
    await confineBesideWorker(worker.pid, [api.pid, ...(opts.redisPid ? [opts.redisPid] : [])]).catch(
      () => null,
    );
  }
  return { apiBase, metricsBase, failure: () => failed, stop };
}
