import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { waitForRedis, type RedisClient } from '@hotpath/queue';
import { createLogger, createMetrics, type HotpathMetrics, type Logger } from '@hotpath/telemetry';
import { markKeyedDeployment } from './admin/keyed-deployment';
import { AppModule } from './app.module';
import type { ApiConfig } from './config/api-config';
import { NestLoggerAdapter } from './core/nest-logger';
import { REDIS_PRODUCER } from './core/tokens';
import { MAX_PARAM_LENGTH, clientErrorHandler, frameworkErrors } from './http/edge-errors';
import { registerHttpHooks } from './http/http-hooks';
import { trackRoutes } from './http/route-table';
import { requestIdFor } from './http/request-id';

/** Inputs of {@link createApiApp}. */
export interface CreateApiAppOptions {
  /** The parsed configuration (`loadApiConfig`), or one built by a test. */
  config: ApiConfig;
  /** Defaults to `createLogger('hotpath-api', config.log.level)`. */
  logger?: Logger;
  /** Defaults to `createMetrics('hotpath-api')`; pass one to read metrics in tests. */
  metrics?: HotpathMetrics;
  /**
   * How long to wait for Redis before returning (default 3000 ms). The app starts anyway when Redis
   * stays down: it answers 503 and reports not-ready until it connects.
   */
  redisWaitMs?: number;
}

/**
 * Builds the initialised API (routes, filter, hooks, RedisClient connections) from an already-parsed
 * config. The caller decides where it listens: `await app.listen(port, host)`; tests use port 0.
 */
export async function createApiApp(options: CreateApiAppOptions): Promise<NestFastifyApplication> {
  const { config } = options;
  const logger = options.logger ?? createLogger('hotpath-api', config.log.level);
  const metrics = options.metrics ?? createMetrics('hotpath-api');
  const adapter = new FastifyAdapter({
    ...httpTimeouts(config.cluster.api),
    bodyLimit: config.cluster.api.max_body_bytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    clientErrorHandler,
    frameworkErrors,
    genReqId: requestIdFor,
    requestIdHeader: false,
    logger: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, logger, metrics }),
    adapter,
    { logger: new NestLoggerAdapter(logger), abortOnError: false },
  );
  registerHttpHooks(app.getHttpAdapter().getInstance(), metrics, logger);
  trackRoutes(app.getHttpAdapter().getInstance());
  if (config.auth.keys.length === 0) warnOpenMode(logger);
  await app.init();
  if (config.auth.keys.length > 0) markKeyedDeployment(app.get<RedisClient>(REDIS_PRODUCER));
  const redisWaitMs = options.redisWaitMs ?? 3000;
  if (redisWaitMs > 0) {
    try {
      await waitForRedis(app.get<RedisClient>(REDIS_PRODUCER), redisWaitMs);
    } catch {
      logger.warn('Redis is not reachable yet; job routes answer 503 until it is', {
        waited_ms: redisWaitMs,
      });
    }
  }
  return app;
}

/**
 * Fastify's (and Node's) timeouts from `api.*`: a request must arrive whole within
 * `request_timeout_ms` (slow senders, bodies that stop halfway), a connection silent in both
 * directions for `idle_timeout_ms` is closed, and an idle keep-alive connection after
 * `keep_alive_timeout_ms`. Node checks `requestTimeout` every `connectionsCheckingInterval`
 * (30 s by default), so that interval follows the timeout.
 */
export function httpTimeouts(api: ApiConfig['cluster']['api']): {
  requestTimeout: number;
  connectionTimeout: number;
  keepAliveTimeout: number;
  http: { connectionsCheckingInterval: number; headersTimeout?: number; requestTimeout?: number };
} {
  const request = api.request_timeout_ms;
  const idle = api.idle_timeout_ms === 0 ? 0 : Math.max(api.idle_timeout_ms, api.max_wait_s * 1000 + 10_000);
  return {
    requestTimeout: request,
    connectionTimeout: idle,
    keepAliveTimeout: api.keep_alive_timeout_ms,
    http: {
      connectionsCheckingInterval: request === 0 ? 30_000 : Math.min(5000, Math.max(250, request / 4)),
      ...(request === 0 ? {} : { requestTimeout: request, headersTimeout: request }),
    },
  };
}

function warnOpenMode(logger: Logger): void {
  const lines = [
    '**********************************************************************',
    '* WARNING: no API keys configured (HOTPATH_API_KEYS / _FILE unset).  *',
    '* The API runs in OPEN DEV MODE: anyone who can reach it can submit, *',
    '* read and cancel jobs, all as tenant "default".                     *',
    '* Admin routes (/v1/admin: cache purge, webhook dead letters) are    *',
    '* open without HOTPATH_ADMIN_KEYS, except on a Redis a keyed API     *',
    '* used; webhooks may target any host unless                          *',
    '* HOTPATH_WEBHOOK_ALLOWED_HOSTS is set.                              *',
    '* Never expose this to a network. Set HOTPATH_API_KEYS=tenant:key.   *',
    '**********************************************************************',
  ];
  for (const line of lines) logger.warn(line);
}
