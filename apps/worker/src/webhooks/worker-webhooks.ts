import { WebhookQueue, type JobStore, type RedisClient } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import { WebhookHandOff } from '../jobs/webhook-hand-off';
import { startWebhookDelivery, type WebhookDeliveryHandle } from './webhook-processor';
import type { WebhookSettings } from './webhook-settings';

/** The worker's webhooks: the hand-off the job runner uses, and how to stop delivering. */
export interface WorkerWebhooks {
  handOff: WebhookHandOff;
  close(): Promise<void>;
}

/**
 * Both sides of webhooks in a worker: the hand-off of finished jobs to the webhook queue, and
 * (unless `settings.concurrency` is 0) the delivery consumer of that queue, which may deliver the
 * webhooks of jobs other workers finished.
 */
export function startWebhooks(deps: {
  connection: RedisClient;
  store: JobStore;
  settings: WebhookSettings;
  logger: Logger;
}): WorkerWebhooks {
  const { connection, settings, logger } = deps;
  const queue = new WebhookQueue(connection, (err) => logger.warn('webhook queue error', { error: err }));
  const delivery: WebhookDeliveryHandle | undefined =
    settings.concurrency > 0 ? startWebhookDelivery({ connection, settings, logger }) : undefined;
  return {
    handOff: new WebhookHandOff(deps.store, queue, logger),
    close: async () => {
      await Promise.allSettled([delivery?.close(), queue.close()]);
    },
  };
}
