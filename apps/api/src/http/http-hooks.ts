import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  Attr,
  ROOT_CONTEXT,
  SpanKind,
  endSpan,
  extractTraceContext,
  startSpan,
  type Context,
  traceLogFields,
  type HotpathMetrics,
  type Logger,
  type Span,
} from '@hotpath/telemetry';

/** The SERVER span of each in-flight request, and the context its children are started in. */
const serverSpans = new WeakMap<FastifyRequest, { span: Span; ctx: Context }>();
/** Milliseconds each request spent waiting for its job because the client asked to. */
const waited = new WeakMap<FastifyRequest, number>();

/**
 * Runs `wait` (a wait the client asked for: `Prefer: wait`, `?wait=N`, an OpenAI request's wait for
 * its job) and books its time as client wait, so `hotpath_http_request_duration_seconds` measures
 * the API's own work and `hotpath_http_client_wait_seconds` the wait.
 */
export async function clientWait<T>(request: FastifyRequest, wait: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await wait();
  } finally {
    waited.set(request, (waited.get(request) ?? 0) + (performance.now() - t0));
  }
}

/** What every log line about a request carries: `request_id`, and `trace_id`/`span_id` of its SERVER span. */
export function requestLogFields(request: FastifyRequest): Record<string, string> {
  return { request_id: request.id, ...traceLogFields(requestTraceContext(request)) };
}

const instanceMetrics = new WeakMap<FastifyInstance, { metrics: HotpathMetrics; logger: Logger }>();

/** Probes and scrapes: logged at debug, or they would drown the access log. */
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One line per request: method, route template, status, duration, client wait, tenant and ids.
 * Never the URL's query, a body, a header value or a key.
 */
function accessLog(
  logger: Logger,
  request: FastifyRequest,
  status: number,
  elapsedMs: number,
  waitMs: number,
): void {
  const route = request.routeOptions.url ?? 'unmatched';
  const fields = {
    ...requestLogFields(request),
    method: request.method,
    route,
    status,
    duration_ms: Math.round(elapsedMs * 10) / 10,
    ...(waitMs > 0 ? { client_wait_ms: Math.round(waitMs * 10) / 10 } : {}),
    tenant: (request as FastifyRequest & { hotpathTenant?: string }).hotpathTenant ?? null,
  };
  if (QUIET_ROUTES.has(route)) logger.debug('request', fields);
  else logger.info('request', fields);
}

/**
 * Books a hijacked response (an event stream, called when its headers are sent), which Fastify's
 * `onResponse` never sees: the time to its headers as request duration, the rest, once the
 * connection closes, as client wait.
 */
export function streamStarted(reply: FastifyReply): void {
  const hooks = instanceMetrics.get(reply.server);
  if (!hooks) return;
  const { metrics, logger } = hooks;
  const firstByteMs = reply.elapsedTime;
  const { request } = reply;
  reply.raw.once('close', () => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequestDuration.observe(
      { route, method: request.method, status: String(reply.raw.statusCode) },
      firstByteMs / 1000,
    );
    metrics.httpClientWait.observe(
      { route, method: request.method },
      Math.max(0, reply.elapsedTime - firstByteMs) / 1000,
    );
    accessLog(logger, request, reply.raw.statusCode, reply.elapsedTime, reply.elapsedTime - firstByteMs);
  });
}

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
export function registerHttpHooks(fastify: FastifyInstance, metrics: HotpathMetrics, logger: Logger): void {
  instanceMetrics.set(fastify, { metrics, logger });
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
    const route = request.routeOptions.url ?? 'unmatched';
    const waitMs = waited.get(request) ?? 0;
    metrics.httpRequestDuration.observe(
      { route, method: request.method, status: String(reply.statusCode) },
      Math.max(0, reply.elapsedTime - waitMs) / 1000,
    );
    if (waitMs > 0) metrics.httpClientWait.observe({ route, method: request.method }, waitMs / 1000);
    accessLog(logger, request, reply.statusCode, reply.elapsedTime, waitMs);
    done();
  });
}
