import { trace, type Context } from '@opentelemetry/api';

/**
 * `trace_id` and `span_id` of the span in `ctx`, to bind on a child logger (`logger.child(...)`)
 * so every line written for a request or a job joins its trace; empty when the context holds no
 * valid span (tracing off and no incoming `traceparent`). Bound explicitly rather than through
 * AsyncLocalStorage, whose promise hooks double the cost of every promise on Node 20.
 */
export function traceLogFields(ctx: Context): Record<string, string> {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !trace.isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId };
}
