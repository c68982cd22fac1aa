import type { JobRequest, ModelConfig, QueuedJob } from '@hotpath/contracts';
import { EMPTY_TIMINGS, routeToShard, type JobRecord } from '@hotpath/queue';

/** What a new job is made of once its request is valid and accepted. */
export interface NewJob {
  id: string;
  tenant: string;
  request: JobRequest;
  model: ModelConfig;
  shard: number;
  /** Submission time, epoch ms. */
  now: number;
  /** Result-cache key and model version, when the request is cacheable. */
  cacheKey?: string;
  modelDigest?: string;
}

/** The shard of a request (docs/architecture.md#shard-queues): its routing key, else a prefix of its prompt or first text. */
export function shardOf(request: JobRequest, model: ModelConfig, prefixChars: number): number {
  const text = request.task === 'generate' ? request.input.prompt : (request.input.texts[0] ?? '');
  return routeToShard({ routingKey: request.routing_key, text }, model.shards, prefixChars);
}

/** The stored record of a freshly queued job. */
export function queuedRecord(job: NewJob): JobRecord {
  return {
    id: job.id,
    tenant: job.tenant,
    model: job.model.name,
    task: job.request.task,
    priority: job.request.priority,
    shard: job.shard,
    status: 'queued',
    result: null,
    error: null,
    cached: false,
    usage: null,
    timings: EMPTY_TIMINGS,
    attempts: 0,
    createdAt: job.now,
    startedAt: null,
    finishedAt: null,
    cancelRequested: false,
    ...(job.cacheKey ? { cacheKey: job.cacheKey } : {}),
  };
}

/** The BullMQ payload of a job; `deadline_at` is absolute (`now + deadline_ms`). */
export function queuedPayload(job: NewJob): QueuedJob {
  const { request } = job;
  const common = {
    id: job.id,
    tenant: job.tenant,
    model: job.model.name,
    priority: request.priority,
    shard: job.shard,
    deadline_at: request.deadline_ms === undefined ? null : job.now + request.deadline_ms,
    enqueued_at: job.now,
    // The secret is stored apart (WebhookSecrets); the payload only names the URL.
    ...(request.webhook ? { webhook: { url: request.webhook.url } } : {}),
    ...(job.cacheKey ? { cache_key: job.cacheKey, model_digest: job.modelDigest } : {}),
  };
  return request.task === 'generate'
    ? { ...common, task: 'generate', input: request.input, params: request.params }
    : { ...common, task: 'embed', input: request.input, params: {} };
}
