import { commonEnvShape } from '@hotpath/config';

/**
 * Environment variables each process accepts (docs/configuration.md and the process contracts). The variables both
 * processes share come from the config lib's schema itself; the rest are process-specific.
 */
const COMMON = Object.keys(commonEnvShape);

export const API_ENV = new Set([...COMMON, 'PORT', 'HOST', 'HOTPATH_API_KEYS', 'HOTPATH_API_KEYS_FILE']);
export const WORKER_ENV = new Set([...COMMON, 'METRICS_PORT', 'WORKER_SHARDS', 'WORKER_ID']);

/** `OTEL_*`: the standard OpenTelemetry variables, read by the SDK. */
export function isAllowedEnv(component: 'api' | 'worker', name: string): boolean {
  if (/^OTEL_[A-Z0-9_]+$/.test(name)) return true;
  return (component === 'api' ? API_ENV : WORKER_ENV).has(name);
}
