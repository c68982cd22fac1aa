import { shardQueueName } from '@hotpath/contracts';
import { Attr, SpanKind, extractTraceContext, withSpan } from '@hotpath/telemetry';
import type { JobRunner, QueueJob, RunOutcome } from './job-runner';

/**
 * The BullMQ processor of one shard queue of `model`. Deliberately thin: everything a job needs
 * (parsing, admission, the backend call, the job store, metrics) lives in {@link JobRunner}. It only
 * opens the CONSUMER span, parented on the producer's context carried in the payload, so one trace
 * runs from the API request through the queue into the model.
 */
export function createShardProcessor(
  runner: JobRunner,
  model: string,
  shard = 0,
): (job: QueueJob, token?: string) => Promise<RunOutcome> {
  const queue = shardQueueName(model, shard);
  return (job, token) => {
    const data = (job.data ?? {}) as { trace?: Record<string, string>; enqueued_at?: number; task?: string };
    const carrier = data.trace && typeof data.trace === 'object' ? data.trace : undefined;
    return withSpan(
      `process ${queue}`,
      {
        kind: SpanKind.CONSUMER,
        parent: extractTraceContext(carrier),
        attributes: {
          [Attr.messagingSystem]: job.lane ? 'hotpath-lane' : 'bullmq',
          [Attr.messagingDestination]: queue,
          [Attr.messagingOperationType]: 'process',
          [Attr.messagingMessageId]: job.id ?? '',
          [Attr.genAiRequestModel]: model,
          [Attr.task]: data.task ?? 'unknown',
          ...(typeof data.enqueued_at === 'number'
            ? { [Attr.queueWaitMs]: Date.now() - data.enqueued_at }
            : {}),
          'messaging.bullmq.attempt': job.attemptsMade + 1,
        },
      },
      (_span, ctx) => runner.run(model, job, token, ctx),
    );
  };
}
