// Imported first by main.ts: OpenTelemetry must start before anything else loads (STYLE: telemetry
// starts first, once). Configured only by the standard OTEL_* variables; off without an endpoint.
import { startTelemetry } from '@hotpath/telemetry';
import { version } from '../package.json';

export const telemetry = startTelemetry('hotpath-worker', version, process.env);
