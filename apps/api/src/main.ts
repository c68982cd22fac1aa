import { telemetry } from './tracing';
import 'reflect-metadata';
import { TenantSettings, reloadTenantsOnSignal } from '@hotpath/config';
import { createLogger } from '@hotpath/telemetry';
import { createApiApp } from './app-factory';
import { loadApiConfig, type ApiConfig } from './config/api-config';

/** How long SIGTERM/SIGINT may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 8000;

async function main(): Promise<void> {
  let config: ApiConfig;
  try {
    config = loadApiConfig(process.env);
  } catch (err) {
    process.stderr.write(`hotpath-api: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const logger = createLogger('hotpath-api', config.log.level);
  const app = await createApiApp({ config, logger });
  await app.listen(config.http.port, config.http.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  logger.info('hotpath-api listening', {
    url: `http://${host}:${port}`,
    config_source: config.clusterSource,
    models: config.cluster.models.map((m) => m.name),
    tenants:
      config.auth.keys.length === 0 ? 'open dev mode' : new Set(config.auth.keys.map((k) => k.tenant)).size,
  });

  if (config.tenantSource) {
    reloadTenantsOnSignal(app.get(TenantSettings), config.tenantSource, (ok, message, tenants) =>
      ok ? logger.info(message, { tenants }) : logger.error(message),
    );
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    setTimeout(() => {
      logger.error('shutdown deadline exceeded; exiting', { deadline_ms: SHUTDOWN_DEADLINE_MS });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app
      .close()
      .then(() => telemetry.shutdown())
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error('shutdown failed', { err: err instanceof Error ? err : String(err) });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`hotpath-api: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
