import { UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  WEBHOOK_BACKOFF_TYPE,
  WEBHOOK_QUEUE,
  WebhookDeadLetters,
  WebhookSecrets,
  parseWebhookDelivery,
  type RedisClient,
} from '@hotpath/queue';
import {
  Attr,
  SpanKind,
  extractTraceContext,
  injectTraceContext,
  markSpanFailed,
  withSpan,
  type Logger,
} from '@hotpath/telemetry';
import { hostOf } from '../jobs/webhook-hand-off';
import { postWebhook, type DeliveryAttempt } from './webhook-delivery';
import { webhookBackoffMs, type WebhookSettings } from './webhook-settings';

/** A running webhook delivery consumer. */
export interface WebhookDeliveryHandle {
  close(): Promise<void>;
}

/**
 * Consumes the webhook queue: one signed POST per attempt, retries with exponential backoff (a
 * custom BullMQ backoff, so the delivering worker's settings decide), and after the last attempt a
 * dead letter an operator can list and replay through the API. Secrets are never logged.
 */
export function startWebhookDelivery(deps: {
  connection: RedisClient;
  settings: WebhookSettings;
  logger: Logger;
}): WebhookDeliveryHandle {
  const { connection, settings, logger } = deps;
  const deadLetters = new WebhookDeadLetters(connection);
  const secrets = new WebhookSecrets(connection);
  const worker = new Worker(WEBHOOK_QUEUE.name, (job: Job) => processDelivery(job), {
    connection,
    prefix: WEBHOOK_QUEUE.prefix,
    concurrency: settings.concurrency,
    autorun: true,
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string) =>
        type === WEBHOOK_BACKOFF_TYPE ? webhookBackoffMs(attemptsMade, settings) : settings.backoffMs,
    },
  });
  worker.on('error', (err) => logger.warn('webhook worker error', { error: err }));

  async function processDelivery(job: Job): Promise<DeliveryAttempt> {
    const parsed = parseWebhookDelivery(job.data);
    if (!parsed) throw new UnrecoverableError('malformed webhook delivery');
    const attempt = job.attemptsMade + 1;
    // Payloads reference the secret by job id; it lives apart from BullMQ (older payloads carry it).
    const secret = parsed.secret ?? (await secrets.get(parsed.job_id));
    if (secret === undefined) {
      const dead = await deadLetters.add({
        delivery: parsed,
        attempts: attempt,
        last_status: null,
        last_error: 'the webhook secret expired before delivery',
        failed_at: Date.now(),
      });
      logger.warn('webhook dead-lettered: its secret expired', {
        job_id: parsed.job_id,
        webhook_id: parsed.webhook_id,
        dead_letter_id: dead.id,
      });
      throw new UnrecoverableError('webhook secret expired');
    }
    const delivery = { ...parsed, secret };
    // One CLIENT span per attempt, in the trace of the job it notifies about.
    const result = await withSpan(
      'POST webhook',
      {
        parent: extractTraceContext(delivery.trace),
        kind: SpanKind.CLIENT,
        attributes: {
          [Attr.httpMethod]: 'POST',
          [Attr.serverAddress]: hostOf(delivery.url),
          [Attr.jobId]: delivery.job_id,
          'hotpath.webhook.attempt': attempt,
        },
      },
      async (span, ctx) => {
        const res = await postWebhook(delivery, {
          timeoutMs: settings.timeoutMs,
          traceHeaders: injectTraceContext(ctx),
        });
        if (res.status !== null) span.setAttribute(Attr.httpStatus, res.status);
        if (!res.ok) markSpanFailed(span, res.error);
        return res;
      },
    );
    const where = {
      job_id: delivery.job_id,
      webhook_id: delivery.webhook_id,
      host: hostOf(delivery.url),
      attempt,
    };
    if (result.ok) {
      logger.debug('webhook delivered', { ...where, status: result.status });
      return result;
    }
    if (attempt >= settings.attempts) {
      const dead = await deadLetters.add({
        delivery,
        attempts: attempt,
        last_status: result.status,
        last_error: result.error ?? 'failed',
        failed_at: Date.now(),
      });
      logger.warn('webhook dead-lettered after its last attempt', {
        ...where,
        dead_letter_id: dead.id,
        error: result.error,
      });
      throw new UnrecoverableError(result.error ?? 'webhook delivery failed');
    }
    logger.info('webhook attempt failed; will retry', { ...where, error: result.error });
    throw new Error(result.error ?? 'webhook delivery failed');
  }

  return {
    close: async () => {
      await worker.close();
    },
  };
}
