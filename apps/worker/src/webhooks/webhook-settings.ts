import { z } from 'zod';

/** How the worker delivers webhooks. */
export interface WebhookSettings {
  /** Delivery attempts before a dead letter is written (`HOTPATH_WEBHOOK_ATTEMPTS`). */
  attempts: number;
  /** First retry delay; each further retry doubles it (`HOTPATH_WEBHOOK_BACKOFF_MS`). */
  backoffMs: number;
  /** Upper bound of one retry delay. */
  maxBackoffMs: number;
  /** Time one POST may take, connection included (`HOTPATH_WEBHOOK_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Deliveries in flight per worker process; 0 disables delivery here (`HOTPATH_WEBHOOK_CONCURRENCY`). */
  concurrency: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  attempts: 5,
  backoffMs: 1000,
  maxBackoffMs: 5 * 60 * 1000,
  timeoutMs: 10_000,
  concurrency: 8,
};

/** The worker's webhook environment variables, merged into its env schema. */
export const webhookEnvShape = {
  HOTPATH_WEBHOOK_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(DEFAULT_WEBHOOK_SETTINGS.attempts),
  HOTPATH_WEBHOOK_BACKOFF_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(DEFAULT_WEBHOOK_SETTINGS.backoffMs),
  HOTPATH_WEBHOOK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(300_000)
    .default(DEFAULT_WEBHOOK_SETTINGS.timeoutMs),
  HOTPATH_WEBHOOK_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(DEFAULT_WEBHOOK_SETTINGS.concurrency),
};

/** Settings from the parsed variables of {@link webhookEnvShape}. */
export function webhookSettingsFromEnv(env: {
  HOTPATH_WEBHOOK_ATTEMPTS: number;
  HOTPATH_WEBHOOK_BACKOFF_MS: number;
  HOTPATH_WEBHOOK_TIMEOUT_MS: number;
  HOTPATH_WEBHOOK_CONCURRENCY: number;
}): WebhookSettings {
  return {
    ...DEFAULT_WEBHOOK_SETTINGS,
    attempts: env.HOTPATH_WEBHOOK_ATTEMPTS,
    backoffMs: env.HOTPATH_WEBHOOK_BACKOFF_MS,
    timeoutMs: env.HOTPATH_WEBHOOK_TIMEOUT_MS,
    concurrency: env.HOTPATH_WEBHOOK_CONCURRENCY,
  };
}

/** Delay before retry number `retry` (1 = the first retry): exponential, capped. */
export function webhookBackoffMs(
  retry: number,
  settings: Pick<WebhookSettings, 'backoffMs' | 'maxBackoffMs'>,
): number {
  const n = Math.max(1, retry);
  return Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** Math.min(n - 1, 30));
}
