import type { JobView, Webhook } from '@hotpath/contracts';
import { webhookIdFor, type WebhookQueue } from '@hotpath/queue';
import { injectTraceContext, type Context } from '@hotpath/telemetry';
import type { WebhookTargetPolicy } from './webhook-target-policy';

/**
 * The API's side of webhooks: validates targets at submission, and schedules the notification of
 * jobs that are finished on arrival (cache hits), which no worker runs. Workers schedule the rest.
 */
export class WebhookNotifier {
  constructor(
    readonly policy: WebhookTargetPolicy,
    private readonly queue: WebhookQueue,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 400 when the target is not allowed. */
  check(webhook: Webhook): void {
    this.policy.check(webhook.url);
  }

  /** `trace`: the request's context, so the delivery span joins the request's trace. */
  async finished(view: JobView, webhook: Webhook, trace?: Context): Promise<void> {
    await this.queue.enqueue({
      webhook_id: webhookIdFor(view.id),
      job_id: view.id,
      url: webhook.url,
      secret: webhook.secret,
      body: JSON.stringify(view),
      created_at: this.now(),
      ...(trace ? { trace: injectTraceContext(trace) } : {}),
    });
  }
}
