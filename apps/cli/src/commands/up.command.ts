import type { CliCommand } from '@hotpath/cli-kit';
import type { ClusterConfig } from '@hotpath/contracts';
import { confineBesideWorker, formatCpuList } from '@hotpath/model-runtime';
import { ServiceStartError, type ServiceSupervisor, type SupervisorHooks } from '@hotpath/process-kit';
import type { ResolvedRedis } from '../up/redis-resolver';
import { acquireRedis } from '../up/up-redis';
import { parseUpOptions, UP_USAGE, type UpOptions } from '../up/up-options';
import { preflight, type UpPlan } from '../up/up-preflight';
import { childEnvironment, UpLogs, upServices, type UpEndpoints } from '../up/up-services';
import { UpLifecycle } from '../up/up-shutdown';
import { formatSummary, reachableHost } from '../up/up-summary';

/** What the terminal shows: progress lines (interactive only) and warnings (always, on stderr). */
interface UpIo {
  say(line: string): void;
  warn(line: string): void;
}

function pickExample(config: ClusterConfig): { model: string; task: 'generate' | 'embed' } {
  const gen = config.models.find((m) => m.tasks.includes('generate'));
  const m = gen ?? config.models[0];
  return { model: m?.name ?? 'sim', task: gen ? 'generate' : 'embed' };
}

/** Crash-loop reports: a service that keeps dying stops the whole run. */
function supervisorHooks(io: UpIo, life: UpLifecycle): SupervisorHooks {
  return {
    note: (line) => io.warn(line),
    giveUp: (name, reason, lines) => {
      io.warn(`${name} keeps dying (${reason}); stopping the cluster. Its last lines:`);
      lines.forEach((l) => process.stderr.write(`  ${l}\n`));
      life.fail();
    },
  };
}

/** Starts every service and waits for their `/readyz`; false (after saying why) when one failed. */
async function startServices(services: ServiceSupervisor[], life: UpLifecycle, io: UpIo): Promise<boolean> {
  io.say(`  starting ${services.map((s) => s.spec.name).join(' and ')}`);
  const starts = await Promise.allSettled(services.map((s) => s.start()));
  const failures = starts.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  // After a Ctrl-C the services were stopped on purpose: not worth a report.
  if (life.signalled) return failures.length === 0;
  for (const f of failures) {
    io.warn(f.message);
    if (f instanceof ServiceStartError && f.lastLines.length > 0) {
      process.stderr.write(`  last lines of ${f.service}:\n`);
      f.lastLines.forEach((l) => process.stderr.write(`    ${l}\n`));
    }
  }
  return failures.length === 0;
}

/** The lines printed once everything is ready: URLs, Redis, models, a curl example. */
function printSummary(
  run: { plan: UpPlan; opts: UpOptions; env: NodeJS.ProcessEnv; redis: ResolvedRedis; started: number },
  endpoints: UpEndpoints,
  logs: UpLogs,
  services: ServiceSupervisor[],
): void {
  const { plan, opts, env, redis } = run;
  const summary = formatSummary({
    ...endpoints,
    redisUrl: redis.url,
    redisSource: redis.source,
    redisDescription: redis.description,
    configSource: plan.configSource,
    models: plan.config.models.map((m) => m.name),
    example: pickExample(plan.config),
    authRequired: Boolean(env.HOTPATH_API_KEYS || env.HOTPATH_API_KEYS_FILE),
    logFilesDir: opts.logFiles ? logs.dir : undefined,
    pids: { api: services[0]?.pid, worker: services[1]?.pid },
    elapsedMs: Date.now() - run.started,
  });
  process.stdout.write(`${summary.join('\n')}\n`);
}

/**
 * When the worker gave its replicas cores of their own, the API and a redis-server this run started
 * move to the worker's other cores, so they stop preempting the replicas. A child restarted later
 * runs on every core again (placement is an optimisation, not a guarantee).
 */
async function confineBeside(services: ServiceSupervisor[], redis: ResolvedRedis, io: UpIo): Promise<void> {
  const [api, worker] = services;
  if (!api?.pid || !worker?.pid) return;
  try {
    const cores = await confineBesideWorker(worker.pid, [api.pid, ...(redis.pid ? [redis.pid] : [])]);
    if (cores)
      io.say(`  CPU placement: replicas on cores of their own; API and Redis on ${formatCpuList(cores)}`);
  } catch (err) {
    io.warn(`cpu placement beside the worker: ${(err as Error).message}`);
  }
}

/**
 * `hotpath up`: preflight checks, then Redis, then the supervised API and worker, then serve until
 * a signal (or a crash loop), then shut down in order. Exit code 0 after a signal, 1 when
 * something failed.
 */
async function runUp(argv: readonly string[]): Promise<number> {
  const started = Date.now();
  // The CLI's one read of its environment; children get a copy of it, with our values on top.
  const env = { ...process.env };
  const opts = parseUpOptions(argv, env, process.stdout.isTTY === true, process.cwd());
  const io: UpIo = {
    say: (line) => {
      if (opts.interactive) process.stdout.write(`${line}\n`);
    },
    warn: (line) => process.stderr.write(`hotpath up: ${line}\n`),
  };

  const plan = await preflight(opts);
  if ('problem' in plan) {
    io.warn(plan.problem);
    return 1;
  }
  const logs = new UpLogs(opts);
  const life = new UpLifecycle(plan.config.queue.shutdown_grace_ms, logs, io);
  const abort = async (code: number): Promise<number> => {
    await life.shutdown();
    return life.signalled ? 0 : code;
  };

  let redis: ResolvedRedis;
  try {
    io.say('hotpath up: looking for Redis');
    redis = await acquireRedis(opts, io.say);
    life.useRedis(redis);
    io.say(`  Redis: ${redis.description}`);
  } catch (err) {
    io.warn((err as Error).message);
    return abort(1);
  }
  if (life.signalled) return abort(0);

  const endpoints: UpEndpoints = {
    apiBase: `http://${reachableHost(opts.host)}:${opts.port}`,
    workerBase: opts.worker ? `http://127.0.0.1:${opts.metricsPort}` : undefined,
  };
  const services = upServices(
    plan,
    opts,
    childEnvironment(env, opts, redis),
    endpoints,
    logs,
    supervisorHooks(io, life),
  );
  life.useServices(services);
  if (life.signalled || !(await startServices(services, life, io))) return abort(1);
  await confineBeside(services, redis, io);

  printSummary({ plan, opts, env, redis, started }, endpoints, logs, services);
  await life.stopRequested;
  await life.shutdown();
  process.stdout.write(life.code === 0 ? 'hotpath up: stopped\n' : 'hotpath up: stopped after a failure\n');
  return life.code;
}

/** `hotpath up`: the all-in-one local cluster (docs/operations.md#processes). */
export const UP_COMMAND: CliCommand = {
  path: ['up'],
  summary: 'API + one worker (+ Redis if needed), all in one',
  usage: UP_USAGE,
  run: runUp,
};
