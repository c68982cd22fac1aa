import { ErrorCode, HotpathError } from '@hotpath/contracts';

/** The default window of `GET /v1/usage`: the last 24 hours. */
export const DEFAULT_USAGE_WINDOW_MS = 24 * 3600 * 1000;

/** A time parameter: ISO 8601 or Unix seconds. */
function parseTime(value: string, param: string): number {
  const ms = /^\d{1,12}(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new HotpathError(
      ErrorCode.InvalidRequest,
      `${param} must be an ISO 8601 time or Unix seconds, got "${value.slice(0, 64)}"`,
      param,
    );
  }
  return ms;
}

/**
 * The [start, end) of a usage query: `end` defaults to now, `start` to a day before `end`; the
 * window must be positive and no longer than the retention (older minutes are gone).
 */
export function usageWindow(
  query: { start?: string; end?: string },
  now: number,
  retentionS: number,
): { startMs: number; endMs: number } {
  const endMs = query.end !== undefined ? parseTime(query.end, 'end') : now;
  const startMs =
    query.start !== undefined
      ? parseTime(query.start, 'start')
      : endMs - Math.min(DEFAULT_USAGE_WINDOW_MS, retentionS * 1000);
  if (startMs >= endMs) throw new HotpathError(ErrorCode.InvalidRequest, 'start must be before end', 'start');
  if (endMs - startMs > retentionS * 1000) {
    throw new HotpathError(
      ErrorCode.InvalidRequest,
      `the window may span at most ${retentionS} s (tenants.usage_retention_s)`,
      'start',
    );
  }
  return { startMs, endMs };
}
