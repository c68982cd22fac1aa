import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { ServiceSupervisor, type LogSink, type SupervisorHooks } from '@hotpath/process-kit';
import type { ResolvedRedis } from './redis-resolver';
import type { UpOptions } from './up-options';
import type { UpPlan } from './up-preflight';

/** Prints `[name] line`, keeping stderr lines on stderr. */
function consoleSink(name: string): LogSink {
  const prefix = `[${name}]`.padEnd(9);
  return {
    write: (stream, line) => process[stream].write(`${prefix}${line}\n`),
  };
}

/** Where the children's logs go: the terminal, or `<dataDir>/logs/<name>.log` with `--log-files`. */
export class UpLogs {
  readonly dir: string;
  private readonly streams: WriteStream[] = [];

  constructor(private readonly opts: UpOptions) {
    this.dir = join(opts.dataDir, 'logs');
  }

  sinkFor(name: string): LogSink {
    if (!this.opts.logFiles) return consoleSink(name);
    mkdirSync(this.dir, { recursive: true });
    const s = createWriteStream(join(this.dir, `${name}.log`), { flags: 'a' });
    this.streams.push(s);
    return { write: (_stream, line) => s.write(`${line}\n`) };
  }

  /** Flushes and closes the log files. */
  async close(): Promise<void> {
    await Promise.all(this.streams.map((s) => new Promise((r) => s.end(r))));
  }
}

/** The URLs the services answer on. */
export interface UpEndpoints {
  apiBase: string;
  /** The worker's metrics/health server; undefined with `--no-worker`. */
  workerBase: string | undefined;
}

/**
 * The children's environment: this CLI's own, plus the Redis found, the data folder and the
 * config; a `HOTPATH_CONFIG` of the CLI's environment is replaced by the resolved path (or dropped
 * for the built-in config).
 */
export function childEnvironment(
  env: NodeJS.ProcessEnv,
  opts: UpOptions,
  redis: ResolvedRedis,
): NodeJS.ProcessEnv {
  const childEnv: NodeJS.ProcessEnv = { ...env, REDIS_URL: redis.url, HOTPATH_DATA_DIR: opts.dataDir };
  if (redis.source === 'cluster') childEnv.REDIS_MODE = 'cluster';
  if (opts.configPath) childEnv.HOTPATH_CONFIG = opts.configPath;
  else delete childEnv.HOTPATH_CONFIG;
  return childEnv;
}

/** The supervised API and (unless `--no-worker`) worker, not started yet. */
export function upServices(
  plan: UpPlan,
  opts: UpOptions,
  childEnv: NodeJS.ProcessEnv,
  endpoints: UpEndpoints,
  logs: UpLogs,
  hooks: SupervisorHooks,
): ServiceSupervisor[] {
  const readyTimeoutMs = opts.readyTimeoutS * 1000;
  const services = [
    new ServiceSupervisor(
      {
        name: 'api',
        entry: plan.apiEntry,
        env: { ...childEnv, PORT: String(opts.port) },
        sink: logs.sinkFor('api'),
        readyUrl: `${endpoints.apiBase}/readyz`,
        readyTimeoutMs,
      },
      hooks,
    ),
  ];
  if (plan.workerEntry && endpoints.workerBase) {
    services.push(
      new ServiceSupervisor(
        {
          name: 'worker',
          entry: plan.workerEntry,
          // WORKER_CPU_PLACEMENT comes from the caller's environment (default off): pinning buys
          // saturation throughput at the price of time to first token (docs/engine.md#cpu-placement).
          env: { ...childEnv, METRICS_PORT: String(opts.metricsPort) },
          sink: logs.sinkFor('worker'),
          readyUrl: `${endpoints.workerBase}/readyz`,
          readyTimeoutMs,
        },
        hooks,
      ),
    );
  }
  return services;
}
