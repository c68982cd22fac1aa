import type { WebhookDelivery } from '@hotpath/queue';
import { webhookHeaders } from './webhook-signature';

/** The outcome of one POST. */
export interface DeliveryAttempt {
  ok: boolean;
  /** HTTP status, `null` when there was no answer (refused, reset, timed out). */
  status: number | null;
  /** For logs and dead letters; never holds the secret. */
  error?: string;
}

/**
 * POSTs one delivery, signed afresh with the current timestamp. 2xx is success; anything else
 * (redirects are not followed, so a 3xx too) is a failure to retry. The answer body is discarded.
 * `traceHeaders` (W3C `traceparent`) let a traced receiver continue the job's trace.
 */
export async function postWebhook(
  delivery: WebhookDelivery & { secret: string },
  opts: { timeoutMs: number; nowMs?: number; traceHeaders?: Record<string, string> },
): Promise<DeliveryAttempt> {
  const timestampS = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  try {
    const res = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        ...opts.traceHeaders,
        ...webhookHeaders(delivery.secret, delivery.webhook_id, timestampS, delivery.body),
      },
      body: delivery.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, status: null, error: describeFetchError(err, opts.timeoutMs) };
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  // undici puts the useful part (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
  const cause = (err as { cause?: unknown }).cause;
  const code = cause instanceof Error ? ((cause as { code?: unknown }).code ?? cause.message) : undefined;
  return code ? `${err.message}: ${String(code)}` : err.message;
}
