import type { JobView, Webhook } from '@hotpath/contracts';
import { webhookIdFor, type WebhookQueue } from '@hotpath/queue';
import type { WebhookTargetPolicy } from './webhook-target.policy';

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

  async finished(view: JobView, webhook: Webhook): Promise<void> {
    await this.queue.enqueue({
      webhook_id: webhookIdFor(view.id),
      job_id: view.id,
      url: webhook.url,
      secret: webhook.secret,
      body: JSON.stringify(view),
      created_at: this.now(),
    });
  }
}
