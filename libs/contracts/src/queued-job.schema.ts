import { z } from 'zod';
import {
  EmbedInputSchema,
  GenerateInputSchema,
  GenerationParamsSchema,
  PrioritySchema,
  WebhookSchema,
} from './job.schema';

const queuedCommon = {
  id: z.string().min(1),
  tenant: z.string().min(1),
  model: z.string().min(1),
  priority: PrioritySchema,
  shard: z.int().min(0),
  /** Absolute deadline, epoch milliseconds; the worker fails the job with `deadline_exceeded` after it. */
  deadline_at: z.number().nullable(),
  enqueued_at: z.number(),
  /** Result-cache key the API computed; the worker fills the cache under it on success. */
  cache_key: z.string().optional(),
  /** Model version the cache key was computed for; a worker serving another version does not fill. */
  model_digest: z.string().optional(),
  /**
   * Where to notify. The secret is not here (BullMQ keeps failed payloads for operators): the API
   * stores it apart under the job id. `secret` appears only in payloads of older versions.
   */
  webhook: z.object({ url: WebhookSchema.shape.url, secret: z.string().optional() }).optional(),
  /**
   * How the client asked, for the job's GenAI span: an OpenAI chat request is a generate job whose
   * prompt the API rendered (`chat`); otherwise `text_completion` (generate) or `embeddings`.
   */
  operation: z.enum(['chat', 'text_completion', 'embeddings']).optional(),
  /**
   * Set on a job that went straight to BullMQ past an empty fair queue for a tenant without
   * `max_running`: it was not counted in the tenant's running jobs, so its end uncounts nothing.
   */
  fair_uncounted: z.literal(true).optional(),
  /** W3C trace context carrier (`traceparent`, `tracestate`) from the API's producer span. */
  trace: z.record(z.string(), z.string()).optional(),
};

/**
 * The payload of one BullMQ job, as the API enqueues it and the worker parses it before running.
 * A payload that does not parse is poison: the worker fails it without retries.
 */
export const QueuedJobSchema = z.discriminatedUnion('task', [
  z.object({
    ...queuedCommon,
    task: z.literal('generate'),
    input: GenerateInputSchema,
    params: GenerationParamsSchema,
  }),
  z.object({ ...queuedCommon, task: z.literal('embed'), input: EmbedInputSchema, params: z.object({}) }),
]);
export type QueuedJob = z.infer<typeof QueuedJobSchema>;
export type QueuedGenerateJob = Extract<QueuedJob, { task: 'generate' }>;
export type QueuedEmbedJob = Extract<QueuedJob, { task: 'embed' }>;
