import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  Attr,
  ROOT_CONTEXT,
  SpanKind,
  endSpan,
  extractTraceContext,
  startSpan,
  type Context,
  type HotpathMetrics,
  type Span,
} from '@hotpath/telemetry';

/** The SERVER span of each in-flight request, and the context its children are started in. */
const serverSpans = new WeakMap<FastifyRequest, { span: Span; ctx: Context }>();

/**
 * The trace context of a request (its SERVER span), for the spans its handler opens: the cache
 * lookup and the enqueue (PRODUCER) become the SERVER span's children.
 */
export function requestTraceContext(request: FastifyRequest): Context {
  return serverSpans.get(request)?.ctx ?? ROOT_CONTEXT;
}

/**
 * Fastify hooks shared by every route: the `x-request-id` response header, and the request
 * duration histogram labelled by ROUTE TEMPLATE (`/v1/jobs/:id`), never the raw URL, so that
 * label cardinality stays bounded.
 */
export function registerHttpHooks(fastify: FastifyInstance, metrics: HotpathMetrics): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    const route = request.routeOptions.url ?? 'unmatched';
    // Honour an incoming W3C traceparent; handlers find the span's context with requestTraceContext.
    const started = startSpan(
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
    serverSpans.set(request, started);
    if (started.span.isRecording()) void reply.header('x-trace-id', started.span.spanContext().traceId);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const span = serverSpans.get(request)?.span;
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
