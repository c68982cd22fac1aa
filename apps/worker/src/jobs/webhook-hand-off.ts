import type { QueuedJob } from '@hotpath/contracts';
import { toJobView, webhookIdFor, type JobStore, type WebhookQueue } from '@hotpath/queue';
import { injectTraceContext, type Context, type Logger } from '@hotpath/telemetry';

/**
 * Hands a finished job that carries a `webhook` to the webhook delivery queue. The body is the job
 * view at that moment, fixed once so that every retry and replay sends (and signs) the same bytes.
 * A failure to enqueue is logged, never thrown: the job's own outcome stands.
 */
export class WebhookHandOff {
  constructor(
    private readonly store: JobStore,
    private readonly queue: WebhookQueue,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** `trace` is the job's CONSUMER span context; without it the delivery joins the producer's trace. */
  async finished(job: QueuedJob, trace?: Context): Promise<void> {
    const webhook = job.webhook;
    if (!webhook) return;
    try {
      const record = await this.store.get(job.id);
      if (!record) return;
      await this.queue.enqueue({
        webhook_id: webhookIdFor(job.id),
        job_id: job.id,
        url: webhook.url,
        // Stored apart at submission; only payloads of older versions carry it.
        ...(webhook.secret !== undefined ? { secret: webhook.secret } : {}),
        body: JSON.stringify(toJobView(record)),
        created_at: this.now(),
        trace: trace ? injectTraceContext(trace) : job.trace,
      });
    } catch (err) {
      // The URL may carry credentials in its query; log only the host.
      this.logger.warn('could not schedule webhook', {
        job_id: job.id,
        host: hostOf(webhook.url),
        error: err,
      });
    }
  }
}

/** The host of a URL, for logs. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}
