export {
  LATENCY_BUCKETS_S,
  TOKEN_BUCKETS_S,
  BATCH_SIZE_BUCKETS,
  type HotpathMetrics,
  createMetrics,
  HOTPATH_METRIC_NAMES,
  QUEUE_DEPTH_STATES,
  setQueueDepth,
  FAIR_WAITING_STATE,
  LANE_READY_STATE,
  LANE_ACTIVE_STATE,
} from './metrics';
export { type TenantMetrics, tenantMetrics } from './tenant-metrics';
export { type LogLevel, type Logger, REDACTED_FIELDS, createLogger } from './logger';
export { traceLogFields } from './log-context';
export {
  type TelemetryEnv,
  type Telemetry,
  startTelemetry,
  currentTelemetry,
  injectTraceContext,
  extractTraceContext,
} from './tracing';
export {
  SpanKind,
  type Attributes,
  type Context,
  type Link,
  type Span,
  Attr,
  tracer,
  traceContentEnabled,
  ROOT_CONTEXT,
  withSpan,
  linkTo,
  spanOf,
  startSpan,
  endSpan,
  markSpanFailed,
  recordSpan,
  tracingEnabled,
} from './spans';
