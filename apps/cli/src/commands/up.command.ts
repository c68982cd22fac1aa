import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { loadClusterConfig } from '@hotpath/config';
import type { ClusterConfig } from '@hotpath/contracts';
import { portAvailable } from '@hotpath/ports';
import type { CliCommand } from '../command';
import { appEntry } from '../up/app-entry';
import { dockerAvailable, startDockerRedis } from '../up/docker-redis';
import { redisServerOnPath, startEmbeddedRedis } from '../up/embedded-redis';
import type { LogSink } from '../up/managed-process';
import { pingRedis } from '../up/redis-ping';
import { resolveRedis, type RedisProbes, type ResolvedRedis } from '../up/redis-resolver';
import { startLocalCluster } from '../up/local-cluster';
import { ServiceStartError, ServiceSupervisor, type SupervisorHooks } from '../up/service-supervisor';
import { parseUpOptions, UP_USAGE } from '../up/up-options';
import { formatSummary, reachableHost } from '../up/up-summary';

/** The real probes: ioredis PING, redis-server from PATH, Docker through testcontainers. */
const REAL_PROBES: RedisProbes = {
  ping: (url) => pingRedis(url),
  hasRedisServer: redisServerOnPath,
  startEmbedded: (dir) => startEmbeddedRedis(dir),
  dockerAvailable: () => dockerAvailable(),
  startDocker: startDockerRedis,
};

/** A second signal this soon after the first is the same Ctrl-C delivered twice, not a "kill now". */
const DUPLICATE_SIGNAL_MS = 1000;

/** Extra time a worker gets beyond its configured drain before SIGKILL. */
const STOP_SLACK_MS = 5000;

/** Prints `[name] line`, keeping stderr lines on stderr. */
function consoleSink(name: string): LogSink {
  const prefix = `[${name}]`.padEnd(9);
  return {
    write: (stream, line) => process[stream].write(`${prefix}${line}\n`),
  };
}

function fileSink(stream: WriteStream): LogSink {
  return { write: (_s, line) => stream.write(`${line}\n`) };
}

function pickExample(config: ClusterConfig): { model: string; task: 'generate' | 'embed' } {
  const gen = config.models.find((m) => m.tasks.includes('generate'));
  const m = gen ?? config.models[0];
  return { model: m?.name ?? 'sim', task: gen ? 'generate' : 'embed' };
}

async function runUp(argv: readonly string[]): Promise<number> {
  const started = Date.now();
  // The CLI's one read of its environment; children get a copy of it, with our values on top.
  const env = { ...process.env };
  const opts = parseUpOptions(argv, env, process.stdout.isTTY === true, process.cwd());
  const say = (line: string): void => {
    if (opts.interactive) process.stdout.write(`${line}\n`);
  };
  const warn = (line: string): void => {
    process.stderr.write(`hotpath up: ${line}\n`);
  };

  const apiEntry = appEntry('api');
  const workerEntry = appEntry('worker');
  if (!apiEntry || (opts.worker && !workerEntry)) {
    warn('the API or the worker is not built (apps/*/dist/main.js missing); run "npm run build" first');
    return 1;
  }

  let config: ClusterConfig;
  let configSource: string;
  try {
    ({ config, source: configSource } = loadClusterConfig(opts.configPath, opts.dataDir));
  } catch (err) {
    warn((err as Error).message);
    return 1;
  }

  const bindHost = opts.host ?? '0.0.0.0';
  if (!(await portAvailable(opts.port, bindHost))) {
    warn(`port ${opts.port} is in use (another hotpath up?); pass --port N or set PORT`);
    return 1;
  }
  if (opts.worker && !(await portAvailable(opts.metricsPort, '0.0.0.0'))) {
    warn(`metrics port ${opts.metricsPort} is in use; pass --metrics-port N or set METRICS_PORT`);
    return 1;
  }

  // Signals: the first one drains, a second one kills. Installed before anything starts so an early
  // Ctrl-C still cleans up.
  let exitCode = 0;
  let stopRequested: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    stopRequested = resolve;
  });
  let signalled = false;
  let firstSignalAt = 0;
  const services: ServiceSupervisor[] = [];
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) {
      // `npm start` forwards the terminal's Ctrl-C to us as well: one press can arrive twice.
      if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
      warn(`${sig} again: killing children now`);
      services.forEach((s) => s.kill());
      return;
    }
    signalled = true;
    firstSignalAt = Date.now();
    say(`\n${sig}: stopping (press Ctrl-C again to kill at once)`);
    stopRequested(0);
    // During start-up the children may still be waiting for readiness: end that wait now.
    services.forEach((s) => void s.stop(config.queue.shutdown_grace_ms + STOP_SLACK_MS));
  };
  const killAll = (): void => services.forEach((s) => s.kill());
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAll);
  const logStreams: WriteStream[] = [];

  let redis: ResolvedRedis | undefined;
  const cleanup = async (): Promise<void> => {
    const grace = config.queue.shutdown_grace_ms + STOP_SLACK_MS;
    const results = await Promise.all(services.map((s) => s.stop(grace)));
    results.forEach((r, i) => {
      if (r?.killed) warn(`${services[i]?.spec.name} did not exit within ${grace} ms and was killed`);
    });
    if (redis) {
      say(`stopping ${redis.description}`);
      await redis.stop().catch((err: unknown) => warn(`stopping Redis: ${(err as Error).message}`));
    }
    await Promise.all(logStreams.map((s) => new Promise((r) => s.end(r))));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killAll);
  };

  try {
    say('hotpath up: looking for Redis');
    redis = opts.redisCluster
      ? await startLocalCluster(opts.dataDir, say)
      : await resolveRedis({ redisUrl: opts.redisUrl, dataDir: opts.dataDir }, REAL_PROBES, say);
    say(`  Redis: ${redis.description}`);
  } catch (err) {
    warn((err as Error).message);
    await cleanup();
    return signalled ? 0 : 1;
  }
  if (signalled) {
    await cleanup();
    return 0;
  }

  const host = reachableHost(opts.host);
  const apiBase = `http://${host}:${opts.port}`;
  const workerBase = opts.worker ? `http://127.0.0.1:${opts.metricsPort}` : undefined;
  const childEnv: NodeJS.ProcessEnv = { ...env, REDIS_URL: redis.url, HOTPATH_DATA_DIR: opts.dataDir };
  if (redis.source === 'cluster') childEnv.REDIS_MODE = 'cluster';
  if (opts.configPath) childEnv.HOTPATH_CONFIG = opts.configPath;
  else delete childEnv.HOTPATH_CONFIG;
  const logDir = join(opts.dataDir, 'logs');
  const sinkFor = (name: string): LogSink => {
    if (!opts.logFiles) return consoleSink(name);
    mkdirSync(logDir, { recursive: true });
    const s = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    logStreams.push(s);
    return fileSink(s);
  };
  const hooks: SupervisorHooks = {
    note: (line) => warn(line),
    giveUp: (name, reason, lines) => {
      warn(`${name} keeps dying (${reason}); stopping the cluster. Its last lines:`);
      lines.forEach((l) => process.stderr.write(`  ${l}\n`));
      exitCode = 1;
      stopRequested(1);
    },
  };
  const readyTimeoutMs = opts.readyTimeoutS * 1000;
  services.push(
    new ServiceSupervisor(
      {
        name: 'api',
        entry: apiEntry,
        env: { ...childEnv, PORT: String(opts.port) },
        sink: sinkFor('api'),
        readyUrl: `${apiBase}/readyz`,
        readyTimeoutMs,
      },
      hooks,
    ),
  );
  if (opts.worker && workerEntry) {
    services.push(
      new ServiceSupervisor(
        {
          name: 'worker',
          entry: workerEntry,
          env: { ...childEnv, METRICS_PORT: String(opts.metricsPort) },
          sink: sinkFor('worker'),
          readyUrl: `${workerBase}/readyz`,
          readyTimeoutMs,
        },
        hooks,
      ),
    );
  }
  if (signalled) {
    await cleanup();
    return 0;
  }

  say(`  starting ${services.map((s) => s.spec.name).join(' and ')}`);
  const starts = await Promise.allSettled(services.map((s) => s.start()));
  const failures = starts.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length > 0) {
    if (!signalled) {
      for (const f of failures) {
        warn(f.message);
        if (f instanceof ServiceStartError && f.lastLines.length > 0) {
          process.stderr.write(`  last lines of ${f.service}:\n`);
          f.lastLines.forEach((l) => process.stderr.write(`    ${l}\n`));
        }
      }
    }
    await cleanup();
    return signalled ? 0 : 1;
  }

  const summary = formatSummary({
    apiBase,
    workerBase,
    redisUrl: redis.url,
    redisSource: redis.source,
    redisDescription: redis.description,
    configSource,
    models: config.models.map((m) => m.name),
    example: pickExample(config),
    authRequired: Boolean(env.HOTPATH_API_KEYS || env.HOTPATH_API_KEYS_FILE),
    logFilesDir: opts.logFiles ? logDir : undefined,
    pids: { api: services[0]?.pid, worker: services[1]?.pid },
    elapsedMs: Date.now() - started,
  });
  process.stdout.write(`${summary.join('\n')}\n`);

  await stopped;
  await cleanup();
  process.stdout.write(exitCode === 0 ? 'hotpath up: stopped\n' : 'hotpath up: stopped after a failure\n');
  return exitCode;
}

/** `hotpath up`: the all-in-one local cluster (docs/operations.md#processes). */
export const UP_COMMAND: CliCommand = {
  path: ['up'],
  summary: 'API + one worker (+ Redis if needed), all in one',
  usage: UP_USAGE,
  run: runUp,
};
