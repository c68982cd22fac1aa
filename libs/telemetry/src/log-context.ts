import { AsyncLocalStorage } from 'node:async_hooks';
import { trace, type Context } from '@opentelemetry/api';

/** Fields every log line written inside a request or a job carries (`trace_id`, `span_id`, ids). */
export type LogFields = Record<string, string>;

const store = new AsyncLocalStorage<LogFields>();

/**
 * Runs `fn` (and everything it starts asynchronously) with `fields` on every log line, merged over
 * the enclosing scope's. This does not depend on an OpenTelemetry context manager, so lines are
 * correlated whether or not traces are exported.
 */
export function withLogFields<T>(fields: LogFields, fn: () => T): T {
  const outer = store.getStore();
  return store.run(outer ? { ...outer, ...fields } : fields, fn);
}

/** The fields of the current scope; empty outside a request or job. */
export function currentLogFields(): LogFields {
  return store.getStore() ?? {};
}

/**
 * `trace_id` and `span_id` of the span in `ctx`, for {@link withLogFields}; empty when the context
 * holds no valid span (tracing off and no incoming `traceparent`).
 */
export function traceLogFields(ctx: Context): LogFields {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !trace.isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId };
}
