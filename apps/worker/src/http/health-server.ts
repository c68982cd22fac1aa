import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HotpathMetrics } from '@hotpath/telemetry';

/** Readiness with the check that failed, for `/readyz` bodies. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  registry: HotpathMetrics['registry'];
  readiness: () => Readiness;
}

/** A running metrics/health server. */
export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The worker's operations endpoint on plain `node:http`: `GET /metrics` (Prometheus text),
 * `GET /healthz` (200 while the process runs) and `GET /readyz` (200 when ready, else 503 JSON).
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    handle(req, res, options).catch(() => {
      if (!res.headersSent) json(res, 500, { status: 'error' });
      else res.end();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: HealthServerOptions,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    json(res, 405, { status: 'method_not_allowed' });
    return;
  }
  switch (path) {
    case '/metrics': {
      const body = await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    case '/healthz':
      json(res, 200, { status: 'ok' });
      return;
    case '/readyz': {
      const r = options.readiness();
      json(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not_ready', checks: r.checks });
      return;
    }
    default:
      json(res, 404, { status: 'not_found' });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
