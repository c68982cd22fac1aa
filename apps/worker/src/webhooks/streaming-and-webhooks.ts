import type { ModelConfig } from '@hotpath/contracts';
import {
  JobEventPublisher,
  ModelChatTemplates,
  ModelInputLimitsStore,
  WebhookQueue,
  type JobStore,
  type RedisClient,
} from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import { publishChatTemplates } from '../jobs/chat-template-publisher';
import { publishInputLimits } from '../jobs/input-limits-publisher';
import { WebhookHandOff } from '../jobs/webhook-hand-off';
import { startWebhookDelivery, type WebhookDeliveryHandle } from './webhook-processor';
import type { WebhookSettings } from './webhook-settings';

/** What {@link startStreamingAndWebhooks} gives the job runner, and how to stop it. */
export interface StreamingAndWebhooks {
  events: JobEventPublisher;
  webhooks: WebhookHandOff;
  close(): Promise<void>;
}

/**
 * The worker's part of token streaming and webhooks, started in one place: the job event stream writer (tokens for SSE
 * and OpenAI streams), the served models' chat templates published for the API, the hand-off of
 * finished jobs to the webhook queue, and (unless `concurrency` is 0) the webhook delivery consumer.
 */
export async function startStreamingAndWebhooks(deps: {
  connection: RedisClient;
  /**
   * The connection token streams are written on. Not the one BullMQ uses: BullMQ defines dozens of
   * Lua commands on its connection and ioredis copies every one onto each pipeline it creates, which
   * made a pipeline per token flush cost more than the XADDs in it.
   */
  eventsConnection: RedisClient;
  store: JobStore;
  models: readonly ModelConfig[];
  resultTtlS: number;
  webhooks: WebhookSettings;
  logger: Logger;
}): Promise<StreamingAndWebhooks> {
  const { connection, logger } = deps;
  let lastStreamError = 0;
  const events = new JobEventPublisher(deps.eventsConnection, {
    ttlS: deps.resultTtlS,
    onError: (err) => {
      // One line per burst: an outage would otherwise log once per token.
      if (Date.now() - lastStreamError < 10_000) return;
      lastStreamError = Date.now();
      logger.warn('job event stream write failed', { error: err });
    },
  });
  await publishChatTemplates(deps.models, new ModelChatTemplates(connection), logger);
  await publishInputLimits(deps.models, new ModelInputLimitsStore(connection), logger);
  const queue = new WebhookQueue(connection, (err) => logger.warn('webhook queue error', { error: err }));
  const handOff = new WebhookHandOff(deps.store, queue, logger);
  let delivery: WebhookDeliveryHandle | undefined;
  if (deps.webhooks.concurrency > 0) {
    delivery = startWebhookDelivery({ connection, settings: deps.webhooks, logger });
  }
  return {
    events,
    webhooks: handOff,
    close: async () => {
      await Promise.allSettled([delivery?.close(), queue.close()]);
    },
  };
}
