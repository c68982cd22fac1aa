import {
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { currentTelemetry } from './tracing';

export { SpanKind };
export type { Attributes, Context, Link, Span };

/**
 * Attribute names from the OpenTelemetry messaging and GenAI semantic conventions, plus Hotpath's
 * own under `hotpath.*`. Kept as constants so every span uses the same spelling.
 */
export const Attr = {
  messagingSystem: 'messaging.system',
  messagingDestination: 'messaging.destination.name',
  messagingOperationType: 'messaging.operation.type',
  messagingOperationName: 'messaging.operation.name',
  messagingMessageId: 'messaging.message.id',
  messagingBatchCount: 'messaging.batch.message_count',
  genAiOperation: 'gen_ai.operation.name',
  genAiSystem: 'gen_ai.system',
  genAiRequestModel: 'gen_ai.request.model',
  genAiMaxTokens: 'gen_ai.request.max_tokens',
  genAiTemperature: 'gen_ai.request.temperature',
  genAiInputTokens: 'gen_ai.usage.input_tokens',
  genAiOutputTokens: 'gen_ai.usage.output_tokens',
  genAiFinishReasons: 'gen_ai.response.finish_reasons',
  genAiPrompt: 'gen_ai.prompt',
  genAiCompletion: 'gen_ai.completion',
  httpMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpStatus: 'http.response.status_code',
  urlPath: 'url.path',
  jobId: 'hotpath.job.id',
  tenant: 'hotpath.tenant',
  task: 'hotpath.task',
  shard: 'hotpath.shard',
  priority: 'hotpath.priority',
  queueWaitMs: 'hotpath.queue_wait_ms',
  cacheResult: 'hotpath.cache.result',
  batchSize: 'hotpath.batch.size',
  replica: 'hotpath.replica',
  executionProvider: 'hotpath.execution_provider',
} as const;

/** The process tracer (a no-op one before or without `startTelemetry`). */
export function tracer(): ReturnType<typeof trace.getTracer> {
  return currentTelemetry()?.tracer ?? trace.getTracer('hotpath');
}

/** True when prompts and outputs may be recorded on spans (`HOTPATH_TRACE_CONTENT=true`). */
export function traceContentEnabled(): boolean {
  return currentTelemetry()?.traceContent ?? false;
}

/**
 * Runs `fn` inside a new span that is the active context for everything `fn` awaits; records an
 * exception and sets ERROR status when `fn` throws; always ends the span.
 */
export async function withSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/** The span context of the active span as a link target (for batch spans linking their members). */
export function activeLink(ctx: Context = context.active()): Link | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc ? { context: sc } : undefined;
}

/** Trace id of the active span, or undefined when tracing is off or nothing is recording. */
export function activeTraceId(ctx: Context = context.active()): string | undefined {
  const span = trace.getSpan(ctx);
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}

/** Starts a span without activating it (for spans that outlive a callback, like an HTTP request). */
export function startSpan(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[] },
  parent: Context = context.active(),
): { span: Span; ctx: Context } {
  const span = tracer().startSpan(name, options, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}

/** Runs `fn` with `ctx` as the active context (and everything it awaits). */
export function runInContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/** The active context, to carry into work that runs later (batchers capture it per item). */
export function activeContext(): Context {
  return context.active();
}

/** Ends a span with ERROR status when `failed`. */
export function endSpan(span: Span, failed: boolean, message?: string): void {
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.end();
}
