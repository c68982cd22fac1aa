import {
  SpanKind,
  SpanStatusCode,
  ROOT_CONTEXT,
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
  genAiProvider: 'gen_ai.provider.name',
  genAiRequestModel: 'gen_ai.request.model',
  genAiMaxTokens: 'gen_ai.request.max_tokens',
  genAiTemperature: 'gen_ai.request.temperature',
  genAiTopP: 'gen_ai.request.top_p',
  genAiTopK: 'gen_ai.request.top_k',
  genAiSeed: 'gen_ai.request.seed',
  genAiStopSequences: 'gen_ai.request.stop_sequences',
  genAiInputTokens: 'gen_ai.usage.input_tokens',
  genAiOutputTokens: 'gen_ai.usage.output_tokens',
  genAiCacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  genAiResponseId: 'gen_ai.response.id',
  genAiResponseModel: 'gen_ai.response.model',
  genAiFinishReasons: 'gen_ai.response.finish_reasons',
  genAiInputMessages: 'gen_ai.input.messages',
  genAiOutputMessages: 'gen_ai.output.messages',
  httpMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpStatus: 'http.response.status_code',
  serverAddress: 'server.address',
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

/**
 * True when prompts and outputs may be recorded on spans
 * (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`, or its alias `HOTPATH_TRACE_CONTENT`).
 */
export function traceContentEnabled(): boolean {
  return currentTelemetry()?.traceContent ?? false;
}

/**
 * `ROOT_CONTEXT` is where every trace starts. Hotpath passes trace context explicitly (see
 * {@link startTelemetry}): no async context manager is installed, so nothing is ever "active".
 */
export { ROOT_CONTEXT };

/**
 * Runs `fn` inside a new span, child of `parent`; `fn` gets the span and the context to hand to
 * whatever it calls. Records an exception and sets ERROR status when `fn` throws; always ends the span.
 */
export async function withSpan<T>(
  name: string,
  options: { parent: Context; kind?: SpanKind; attributes?: Attributes; links?: Link[] },
  fn: (span: Span, ctx: Context) => Promise<T>,
): Promise<T> {
  const { span, ctx } = startSpan(name, options, options.parent);
  try {
    return await fn(span, ctx);
  } catch (err) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/** The span `ctx` carries (a job's CONSUMER span, say), to annotate it; undefined at the root. */
export function spanOf(ctx: Context): Span | undefined {
  return trace.getSpan(ctx);
}

/** A link to the span `ctx` carries (batch spans link every member job this way). */
export function linkTo(ctx: Context): Link | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc ? { context: sc } : undefined;
}

/**
 * Sets a new span's attributes after it started rather than through `startSpan`'s options: the SDK
 * copies and validates creation attributes twice more for the sampler (which, as configured from
 * `OTEL_TRACES_SAMPLER`, never reads them), about 15 % of a span's cost at 100 % sampling.
 */
function setInitialAttributes(span: Span, attributes: Attributes): void {
  if (span.isRecording()) span.setAttributes(attributes);
}

/** Starts a span without ending it (for spans that outlive a callback, like an HTTP request). */
export function startSpan(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[] },
  parent: Context,
): { span: Span; ctx: Context } {
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, links: options.links },
    parent,
  );
  if (options.attributes) setInitialAttributes(span, options.attributes);
  return { span, ctx: trace.setSpan(parent, span) };
}

/** True when spans are recorded and exported (an OTLP endpoint is configured). */
export function tracingEnabled(): boolean {
  return currentTelemetry()?.enabled ?? false;
}

/**
 * Records a span that has already happened, with its start and end (epoch ms), e.g. work a
 * worker thread reported after the fact. A root span unless `parent` is given; `error` marks it
 * failed with that message.
 */
export function recordSpan(
  name: string,
  options: {
    startTime: number;
    endTime: number;
    kind?: SpanKind;
    attributes?: Attributes;
    links?: Link[];
    error?: string;
  },
  parent: Context = ROOT_CONTEXT,
): void {
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, links: options.links, startTime: options.startTime },
    parent,
  );
  if (options.attributes) setInitialAttributes(span, options.attributes);
  if (options.error !== undefined) markSpanFailed(span, options.error);
  span.end(options.endTime);
}

/** Sets ERROR status on a span whose operation failed without throwing (an HTTP 5xx, say). */
export function markSpanFailed(span: Span, message?: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** Ends a span with ERROR status when `failed`. */
export function endSpan(span: Span, failed: boolean, message?: string): void {
  if (failed) markSpanFailed(span, message);
  span.end();
}
