import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  Attr,
  SpanKind,
  endSpan,
  extractTraceContext,
  runInContext,
  startSpan,
  type HotpathMetrics,
  type Span,
} from '@hotpath/telemetry';

/** The SERVER span of each in-flight request. */
const serverSpans = new WeakMap<FastifyRequest, Span>();

/**
 * Fastify hooks shared by every route: the `x-request-id` response header, and the request
 * duration histogram labelled by ROUTE TEMPLATE (`/v1/jobs/:id`), never the raw URL, so that
 * label cardinality stays bounded.
 */
export function registerHttpHooks(fastify: FastifyInstance, metrics: HotpathMetrics): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    const route = request.routeOptions.url ?? 'unmatched';
    // Honour an incoming W3C traceparent; the handler runs inside the span's context, so the
    // cache lookup and the enqueue (PRODUCER) become its children.
    const { span, ctx } = startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [Attr.httpMethod]: request.method,
          [Attr.httpRoute]: route,
          [Attr.urlPath]: request.url.split('?')[0],
        },
      },
      extractTraceContext(request.headers),
    );
    serverSpans.set(request, span);
    if (span.isRecording()) void reply.header('x-trace-id', span.spanContext().traceId);
    runInContext(ctx, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const span = serverSpans.get(request);
    if (span) {
      span.setAttribute(Attr.httpStatus, reply.statusCode);
      endSpan(span, reply.statusCode >= 500);
    }
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
