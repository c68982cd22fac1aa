import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '@hotpath/cli-kit';
import { DEFAULT_CLUSTER_CONFIG } from '@hotpath/config';

/** Everything `hotpath up` needs to know, parsed once from its flags and environment. */
export interface UpOptions {
  /** API port (`--port`, else `$PORT`, else 3000). */
  port: number;
  /** Interface the API listens on (`$HOST`); readiness probes and printed URLs use a loopback form of it. */
  host: string | undefined;
  /** Worker metrics/health port (`--metrics-port`, else `$METRICS_PORT`, else 9464). */
  metricsPort: number;
  /** Absolute path of the cluster config, or undefined for the built-in one. */
  configPath: string | undefined;
  /** Start no worker (`--no-worker`), e.g. when workers run elsewhere. */
  worker: boolean;
  /** Write children's logs to `<dataDir>/logs/*.log` instead of the terminal (`--log-files`). */
  logFiles: boolean;
  /** `HOTPATH_DATA_DIR` (default `.hotpath`), absolute. */
  dataDir: string;
  /** `REDIS_URL` when set. */
  redisUrl: string | undefined;
  /** Start a local Redis Cluster (3 masters + 3 replicas) for the run (`--redis-cluster`). */
  redisCluster: boolean;
  /** Seconds to wait for both `/readyz` (`--ready-timeout`, default 60). */
  readyTimeoutS: number;
  /** Interactive terminal: short progress lines. Otherwise (CI, pipes) only the essential lines. */
  interactive: boolean;
}

/** The variables `hotpath up` reads itself; everything else passes through to the children untouched. */
export interface UpEnv {
  PORT?: string;
  HOST?: string;
  METRICS_PORT?: string;
  HOTPATH_CONFIG?: string;
  HOTPATH_DATA_DIR?: string;
  REDIS_URL?: string;
  CI?: string;
}

/** What the built-in config serves, for the usage text: `sim (sim, generate), tiny (onnx, generate), …`. */
const BUILT_IN_MODELS = DEFAULT_CLUSTER_CONFIG.models
  .map((m) => `${m.name} (${m.backend}, ${(m.tasks ?? ['generate']).join('+')})`)
  .join(', ');

export const UP_USAGE = `Usage: hotpath up [options]

Starts the API and one worker as separate child processes, plus Redis when none is configured.

Options:
  --port N             API port (default $PORT or 3000)
  --metrics-port N     worker metrics/health port (default $METRICS_PORT or 9464)
  --config FILE        cluster config YAML (default $HOTPATH_CONFIG, else the built-in config:
                       ${BUILT_IN_MODELS})
  --no-worker          start only the API (workers run elsewhere)
  --log-files          write the children's logs to $HOTPATH_DATA_DIR/logs/{api,worker}.log
                       instead of printing them prefixed with [api] / [worker]
  --ready-timeout S    seconds to wait for /readyz of both processes (default 60)
  --redis-cluster      start a local Redis Cluster (3 masters + 3 replicas from redis-server on
                       free ports, joined with redis-cli --cluster create) and run in
                       REDIS_MODE=cluster; it is stopped, and its data dropped, on exit

Redis: REDIS_URL if set (it must answer PING); else 127.0.0.1:6379 if it answers; else an
embedded redis-server (data in $HOTPATH_DATA_DIR/redis, AOF on); else a Docker container
through the optional "testcontainers" package. Ctrl-C drains and stops everything.`;

function parsePort(raw: string, what: string, allowZero: boolean): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`${what} must be a port number, got "${raw}"`);
  const n = Number(raw);
  if (n > 65_535 || (!allowZero && n === 0)) throw new UsageError(`${what} must be 1-65535, got ${raw}`);
  return n;
}

function envPortValue(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65_535) {
    throw new UsageError(`${name} must be a port number 1-65535, got "${raw}"`, 'invalid_env');
  }
  return Number(raw);
}

/**
 * Parses `hotpath up` flags over its environment. Flags win over variables; a bad value of either is
 * a {@link UsageError} naming it. `cwd` anchors relative paths.
 */
export function parseUpOptions(argv: readonly string[], env: UpEnv, isTTY: boolean, cwd: string): UpOptions {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  const opts: UpOptions = {
    port: envPortValue(env.PORT, 'PORT', 3000),
    host: env.HOST || undefined,
    metricsPort: envPortValue(env.METRICS_PORT, 'METRICS_PORT', 9464),
    configPath: env.HOTPATH_CONFIG ? abs(env.HOTPATH_CONFIG) : undefined,
    worker: true,
    logFiles: false,
    dataDir: abs(env.HOTPATH_DATA_DIR || '.hotpath'),
    redisUrl: env.REDIS_URL || undefined,
    redisCluster: false,
    readyTimeoutS: 60,
    interactive: isTTY && !isCi(env.CI),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
      i++;
      return v;
    };
    switch (name) {
      case '--port':
        opts.port = parsePort(value(), '--port', false);
        break;
      case '--metrics-port':
        opts.metricsPort = parsePort(value(), '--metrics-port', false);
        break;
      case '--config': {
        const v = value();
        if (v === '') throw new UsageError('--config needs a file path');
        opts.configPath = abs(v);
        break;
      }
      case '--no-worker':
        opts.worker = false;
        break;
      case '--log-files':
        opts.logFiles = true;
        break;
      case '--redis-cluster':
        opts.redisCluster = true;
        break;
      case '--ready-timeout': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 3600) {
          throw new UsageError(`--ready-timeout must be 1-3600 seconds, got "${v}"`);
        }
        opts.readyTimeoutS = Number(v);
        break;
      }
      default:
        throw new UsageError(arg.startsWith('-') ? `unknown option ${name}` : `unexpected argument "${arg}"`);
    }
  }
  if (opts.redisCluster && opts.redisUrl) {
    throw new UsageError('--redis-cluster starts its own Redis Cluster: unset REDIS_URL');
  }
  if (opts.worker && opts.port === opts.metricsPort) {
    throw new UsageError(`--port and --metrics-port must differ (both ${opts.port})`);
  }
  return opts;
}

/** CI systems set `CI=true` (or `1`); anything else counts as not CI. */
export function isCi(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}
