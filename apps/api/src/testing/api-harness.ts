import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ClusterConfigSchema, type ClusterConfigInput } from '@hotpath/contracts';
import { createLogger, createMetrics, type HotpathMetrics } from '@hotpath/telemetry';
import { createApiApp } from '../app-factory';
import { standaloneTarget } from '@hotpath/queue';
import type { ApiConfig } from '../config/api-config';
import type { ApiKeyEntry } from '../auth/api-keys';

/** A unique model name, so queue keys never collide with other tests on the shared Redis. */
export const uniqueModel = (): string => `t-${randomUUID().slice(0, 8)}`;

/** An {@link ApiConfig} for tests: the given cluster config (validated), keys and Redis URL. */
export function testConfig(opts: {
  redisUrl: string;
  cluster: ClusterConfigInput;
  keys?: ApiKeyEntry[];
}): ApiConfig {
  return {
    http: { host: '127.0.0.1', port: 0 },
    redis: standaloneTarget(opts.redisUrl),
    cluster: ClusterConfigSchema.parse(queuedWhenUnserved(opts.cluster)),
    clusterSource: 'test',
    auth: { keys: opts.keys ?? [] },
    results: { ttlS: 300 },
    log: { level: 'error' },
    traceContent: false,
    dataDir: '.hotpath',
  };
}

/**
 * API-only tests run without workers: their models queue jobs no worker serves (as
 * `queue_when_unserved: true` does for scale-from-zero) unless a test says otherwise.
 */
function queuedWhenUnserved(cluster: ClusterConfigInput): ClusterConfigInput {
  return { ...cluster, models: cluster.models.map((m) => ({ queue_when_unserved: true, ...m })) };
}

/** A running API on a free port. */
export interface TestApi {
  app: NestFastifyApplication;
  url: string;
  metrics: HotpathMetrics;
  close(): Promise<void>;
}

/** Starts the API in-process on 127.0.0.1, port 0. */
export async function startTestApi(config: ApiConfig, opts: { redisWaitMs?: number } = {}): Promise<TestApi> {
  const metrics = createMetrics('hotpath-api');
  const app = await createApiApp({
    config,
    metrics,
    logger: createLogger('hotpath-api', 'error'),
    redisWaitMs: opts.redisWaitMs,
  });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return {
    app,
    metrics,
    url: `http://127.0.0.1:${address.port}`,
    close: () => app.close(),
  };
}

/** A decoded HTTP answer. */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A small JSON client with a timeout on every call. */
export async function call<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.rawBody;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  } else if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}
