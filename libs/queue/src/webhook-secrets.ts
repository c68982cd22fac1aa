import type { RedisClient } from './redis-connection';

/**
 * How long a job's webhook secret is kept: from submission, and again from each delivery scheduled
 * for it (a queued job, then its delivery retries, fit well within it).
 */
export const WEBHOOK_SECRET_TTL_S = 7 * 24 * 3600;

/** Redis key of a job's webhook secret (hash tag of the webhook queue: one slot with its deliveries). */
export function webhookSecretKey(jobId: string): string {
  return `hp:{webhooks}:secret:${jobId}`;
}

/**
 * Webhook HMAC secrets, kept apart from BullMQ: job and delivery payloads only reference them by
 * job id, so a failed job kept for operators, a queue dump or a BullMQ dashboard never shows them.
 */
export class WebhookSecrets {
  constructor(
    private readonly redis: RedisClient,
    private readonly ttlS = WEBHOOK_SECRET_TTL_S,
  ) {}

  async put(jobId: string, secret: string): Promise<void> {
    await this.redis.set(webhookSecretKey(jobId), secret, 'EX', this.ttlS);
  }

  /** The secret; `undefined` when it expired (or the job had none). */
  async get(jobId: string): Promise<string | undefined> {
    return (await this.redis.get(webhookSecretKey(jobId))) ?? undefined;
  }

  /** Restarts the secret's TTL (a delivery was scheduled); false when it is gone. */
  async keep(jobId: string): Promise<boolean> {
    return (await this.redis.expire(webhookSecretKey(jobId), this.ttlS)) === 1;
  }
}
