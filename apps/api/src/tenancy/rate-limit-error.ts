import { ErrorCode, HotpathError } from '@hotpath/contracts';
import type { RateDecision } from '@hotpath/queue';

/** Which tenant limit refused a submission. */
export type TenantLimitKind = 'requests' | 'tokens' | 'max_queued';

/** A 429 from a tenant limit, with `Retry-After` and OpenAI's `x-ratelimit-*` headers. */
export class RateLimitError extends HotpathError {
  constructor(
    message: string,
    readonly limit: TenantLimitKind,
    retryAfterS: number,
    readonly headers: Record<string, string>,
  ) {
    super(ErrorCode.RateLimited, message, undefined, retryAfterS);
  }
}

/**
 * A duration as OpenAI writes its `x-ratelimit-reset-*` headers: `250ms`, `1s`, `1.5s`, `6m0s`,
 * `1h2m3s`.
 */
export function openAiDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = (total % 60_000) / 1000;
  const sec = `${Number(s.toFixed(3))}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

/** OpenAI's rate-limit headers for the buckets a tenant has (a bucket that is off sends none). */
export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  const h: Record<string, string> = {};
  if (d.requests) {
    h['x-ratelimit-limit-requests'] = String(d.requests.limit);
    h['x-ratelimit-remaining-requests'] = String(d.requests.remaining);
    h['x-ratelimit-reset-requests'] = openAiDuration(d.requests.resetMs);
  }
  if (d.tokens) {
    h['x-ratelimit-limit-tokens'] = String(d.tokens.limit);
    h['x-ratelimit-remaining-tokens'] = String(d.tokens.remaining);
    h['x-ratelimit-reset-tokens'] = openAiDuration(d.tokens.resetMs);
  }
  return h;
}
