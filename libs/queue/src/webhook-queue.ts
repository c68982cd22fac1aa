import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from './redis-connection';
import { QUEUE_PREFIX } from '@hotpath/contracts';
import { WebhookSecrets } from './webhook-secrets';

/**
 * The webhook delivery queue: prefix `hp`, name `{webhooks}` (keys `hp:{webhooks}:wait`, ...). The
 * hash tag keeps every key in one Redis Cluster slot, and the name cannot collide with a shard queue
 * (`{<model>:<shard>}` always has a colon inside the braces, which BullMQ names may not contain).
 */
export const WEBHOOK_QUEUE = { prefix: QUEUE_PREFIX, name: '{webhooks}' } as const;

/**
 * BullMQ's own attempt ceiling for deliveries. The delivering worker enforces the configured attempts
 * (`HOTPATH_WEBHOOK_ATTEMPTS`) itself and writes the dead letter, so producers need no settings.
 */
export const WEBHOOK_QUEUE_MAX_ATTEMPTS = 1000;

/** Name of the custom backoff strategy the delivering worker registers. */
export const WEBHOOK_BACKOFF_TYPE = 'hotpath-webhook';

/** One webhook to deliver: the exact body, where to, and how to sign it. */
export interface WebhookDelivery {
  /** `webhook-id` header: the same on every retry and replay, so receivers can deduplicate. */
  webhook_id: string;
  job_id: string;
  url: string;
  /**
   * HMAC key. Never in BullMQ's payload: {@link WebhookQueue.enqueue} stores it apart
   * ({@link WebhookSecrets}, by job id) and the delivering worker reads it there. Present in dead
   * letters (for replay) and in payloads of older versions.
   */
  secret?: string;
  /** The JSON body (the job view), exactly as it is signed and sent. */
  body: string;
  /** When the delivery was first scheduled, epoch ms. */
  created_at: number;
  /** W3C trace context of the job that finished: the delivery span continues its trace. */
  trace?: Record<string, string>;
}

/** The `webhook-id` of a job's notification. */
export function webhookIdFor(jobId: string): string {
  return `msg_${jobId}`;
}

/** Validates a delivery read back from RedisClient; `undefined` when it is malformed. */
export function parseWebhookDelivery(data: unknown): WebhookDelivery | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  const strings = ['webhook_id', 'job_id', 'url', 'body'] as const;
  for (const k of strings) if (typeof d[k] !== 'string') return undefined;
  if (typeof d['created_at'] !== 'number') return undefined;
  if (d['secret'] !== undefined && typeof d['secret'] !== 'string') return undefined;
  return {
    webhook_id: d['webhook_id'] as string,
    job_id: d['job_id'] as string,
    url: d['url'] as string,
    ...(typeof d['secret'] === 'string' ? { secret: d['secret'] } : {}),
    body: d['body'] as string,
    created_at: d['created_at'],
    ...(isCarrier(d['trace']) ? { trace: d['trace'] } : {}),
  };
}

function isCarrier(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');
}

/** Producer side of {@link WEBHOOK_QUEUE}, used by workers (on job end) and the API (cache hits, replays). */
export class WebhookQueue {
  private queue: Queue | undefined;
  private readonly secrets: WebhookSecrets;

  constructor(
    private readonly connection: RedisClient,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.secrets = new WebhookSecrets(connection);
  }

  /** The BullMQ queue (created on first use). */
  get bull(): Queue {
    if (!this.queue) {
      this.queue = new Queue(WEBHOOK_QUEUE.name, {
        connection: this.connection,
        prefix: WEBHOOK_QUEUE.prefix,
      });
      this.queue.on('error', this.onError);
    }
    return this.queue;
  }

  /**
   * Schedules a delivery. The BullMQ job id is the webhook id (a second enqueue of the same
   * notification while the first is pending is ignored); replays pass a distinct `jobId`. A
   * `secret` in `delivery` is stored apart and left out of the payload; without one, the secret
   * stored at submission is kept for the delivery's retries.
   */
  async enqueue(delivery: WebhookDelivery, opts: { jobId?: string } = {}): Promise<void> {
    const { secret, ...payload } = delivery;
    if (secret !== undefined) await this.secrets.put(delivery.job_id, secret);
    else await this.secrets.keep(delivery.job_id);
    const options: JobsOptions = {
      jobId: opts.jobId ?? delivery.webhook_id,
      attempts: WEBHOOK_QUEUE_MAX_ATTEMPTS,
      backoff: { type: WEBHOOK_BACKOFF_TYPE },
      removeOnComplete: true,
      removeOnFail: true,
    };
    await this.bull.add('deliver', payload, options);
  }

  async close(): Promise<void> {
    await this.queue?.close();
    this.queue = undefined;
  }
}
