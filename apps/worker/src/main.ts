import { telemetry } from './tracing';
import { loadClusterConfig, reloadTenantsOnSignal } from '@hotpath/config';
import { createLogger } from '@hotpath/telemetry';
import { parseWorkerEnv, workerOptionsFromEnv, type WorkerEnv } from './worker-env';
import { startWorker, type WorkerHandle } from './worker-app';

/** Extra time after the grace period before a stuck shutdown is cut short. */
const HARD_EXIT_MARGIN_MS = 15_000;

function fail(err: unknown): never {
  const e = err as Error & { code?: string };
  process.stderr.write(`hotpath-worker: ${e.message}${e.code ? ` [${e.code}]` : ''}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let env: WorkerEnv;
  try {
    env = parseWorkerEnv(process.env);
  } catch (err) {
    fail(err);
  }
  const logger = createLogger('hotpath-worker', env.LOG_LEVEL);
  let handle: WorkerHandle | undefined;
  let graceMs = 0;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn('second signal; exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    // Still starting: no job runs yet, and a half-started one comes back through the stalled check.
    if (!handle) process.exit(0);
    logger.info('signal received; shutting down', { signal });
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, graceMs + HARD_EXIT_MARGIN_MS).unref();
    handle
      .close()
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error('shutdown failed', { error: err });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    const { config, source } = loadClusterConfig(env.HOTPATH_CONFIG, env.HOTPATH_DATA_DIR, (line) =>
      logger.warn(line),
    );
    graceMs = config.queue.shutdown_grace_ms;
    const options = workerOptionsFromEnv(env, config);
    logger.info('cluster config loaded', { source, models: config.models.map((m) => m.name) });
    handle = await startWorker({ ...options, logger: logger.child({ worker_id: options.workerId }) });
    if (options.tenants) {
      const source = {
        configPath: env.HOTPATH_CONFIG,
        envText: env.HOTPATH_TENANTS,
        baseDir: env.HOTPATH_DATA_DIR,
      };
      reloadTenantsOnSignal(options.tenants, source, (ok, message, tenants) =>
        ok ? logger.info(message, { tenants }) : logger.error(message),
      );
    }
  } catch (err) {
    fail(err);
  }
}

void main();
