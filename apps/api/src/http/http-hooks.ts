import type { FastifyInstance } from 'fastify';
import type { HotpathMetrics } from '@hotpath/telemetry';

/**
 * Fastify hooks shared by every route: the `x-request-id` response header, and the request
 * duration histogram labelled by ROUTE TEMPLATE (`/v1/jobs/:id`), never the raw URL, so that
 * label cardinality stays bounded.
 */
export function registerHttpHooks(fastify: FastifyInstance, metrics: HotpathMetrics): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequestDuration.observe(
      {
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
}
