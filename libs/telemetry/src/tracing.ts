import { hostname } from 'node:os';
import { ROOT_CONTEXT, propagation, trace, type Context, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** The subset of `OTEL_*` variables Hotpath acts on itself; the SDK and exporters read the rest. */
export interface TelemetryEnv {
  OTEL_SDK_DISABLED?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_PROTOCOL?: string;
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string;
  OTEL_SERVICE_NAME?: string;
  /** `true` lets spans carry prompt and output text; anything else keeps them out. */
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?: string;
  /** Alias of `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`. */
  HOTPATH_TRACE_CONTENT?: string;
}

/** What a process holds after start-up: a tracer (no-op when tracing is off) and a flush on exit. */
export interface Telemetry {
  enabled: boolean;
  /** `http/protobuf` or `http/json` when enabled. */
  protocol: string | null;
  serviceName: string;
  /** Whether spans may carry prompt/output text (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`). */
  traceContent: boolean;
  tracer: Tracer;
  /** Flushes pending spans and stops exporting. Idempotent. */
  shutdown(): Promise<void>;
}

let started: Telemetry | undefined;

/**
 * Starts OpenTelemetry tracing once, first thing in a process (before Nest, BullMQ or ioredis load
 * anything). Configured only through the standard `OTEL_*` variables: off unless an OTLP endpoint is
 * set; `http/protobuf` by default, `http/json` when the protocol variable says so; sampler from
 * `OTEL_TRACES_SAMPLER`. Trace context travels explicitly (each span helper takes its parent), so no
 * async context manager is installed. No auto-instrumentation is loaded, so BullMQ's Redis polling creates no spans:
 * Hotpath opens spans only around real work. A second call is a programming error and throws.
 */
export function startTelemetry(defaultServiceName: string, version: string, env: TelemetryEnv): Telemetry {
  if (started) throw new Error(`telemetry already started for ${started.serviceName}`);
  const serviceName = env.OTEL_SERVICE_NAME || defaultServiceName;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const disabled = env.OTEL_SDK_DISABLED === 'true';
  const on = (v: string | undefined): boolean => v === 'true' || v === '1';
  const traceContent =
    on(env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT) || on(env.HOTPATH_TRACE_CONTENT);
  if (!endpoint || disabled) {
    started = {
      enabled: false,
      protocol: null,
      serviceName,
      traceContent,
      tracer: trace.getTracer(serviceName, version),
      shutdown: async () => undefined,
    };
    return started;
  }
  const requested =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf';
  if (requested !== 'http/protobuf' && requested !== 'http/json') {
    throw new Error(
      `OTEL_EXPORTER_OTLP_PROTOCOL "${requested}" is not supported; use http/protobuf or http/json`,
    );
  }
  // Per the OTLP spec, the generic endpoint gets `/v1/traces` appended; the signal-specific one is used
  // as is. Headers, timeout and compression the exporters read from OTEL_* themselves.
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || `${endpoint.replace(/\/+$/, '')}/v1/traces`;
  const exporter = requested === 'http/json' ? new OtlpJsonExporter({ url }) : new OtlpProtoExporter({ url });
  const resource = detectResources({ detectors: [envDetector] }).merge(
    resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      [ATTR_SERVICE_VERSION]: version,
      'service.instance.id': `${hostname()}-${process.pid}`,
    }),
  );
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  // No async context manager: Hotpath hands trace context from span to span explicitly. On Node 20
  // the AsyncLocalStorage manager installs promise hooks that tax every promise in the process
  // (ioredis makes several per job); without it tracing at 100% sampling costs a few percent.
  provider.register({ contextManager: null });
  let closing: Promise<void> | undefined;
  started = {
    enabled: true,
    protocol: requested,
    serviceName,
    traceContent,
    tracer: trace.getTracer(serviceName, version),
    shutdown: () => (closing ??= provider.shutdown()),
  };
  return started;
}

/** The telemetry started in this process (a no-op tracer before start). */
export function currentTelemetry(): Telemetry | undefined {
  return started;
}

/** W3C trace context of `ctx` as a plain carrier, to travel inside a queued job. */
export function injectTraceContext(ctx: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a carrier (HTTP headers, a job's `trace` field) describes. */
export function extractTraceContext(
  carrier: Record<string, string | string[] | undefined> | undefined,
): Context {
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
}
