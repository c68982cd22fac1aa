import { z } from 'zod';

/** Limits that keep one request from monopolising a worker. Exported so docs and tests quote them. */
export const JobLimits = {
  maxPromptChars: 32_768,
  maxTexts: 256,
  maxTextChars: 8_192,
  maxTokens: 4_096,
  maxStops: 4,
  maxStopChars: 64,
  maxDeadlineMs: 24 * 3600 * 1000,
  maxRoutingKeyChars: 256,
  maxBatchJobs: 100,
} as const;

export const TaskSchema = z.enum(['generate', 'embed']);
export type Task = z.infer<typeof TaskSchema>;

export const PrioritySchema = z.enum(['high', 'normal', 'low']);
export type Priority = z.infer<typeof PrioritySchema>;

export const CacheModeSchema = z.enum(['default', 'bypass', 'refresh']);
export type CacheMode = z.infer<typeof CacheModeSchema>;

export const GenerateInputSchema = z.strictObject({
  prompt: z.string().max(JobLimits.maxPromptChars),
});

export const EmbedInputSchema = z.strictObject({
  texts: z.array(z.string().max(JobLimits.maxTextChars)).min(1).max(JobLimits.maxTexts),
});

export const GenerationParamsSchema = z.strictObject({
  max_tokens: z.int().min(1).max(JobLimits.maxTokens).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.int().min(0).max(1000).optional(),
  seed: z
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  stop: z.array(z.string().min(1).max(JobLimits.maxStopChars)).max(JobLimits.maxStops).optional(),
});
export type GenerationParams = z.infer<typeof GenerationParamsSchema>;

export const WebhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  secret: z.string().min(16).max(256),
});
export type Webhook = z.infer<typeof WebhookSchema>;

const commonJobFields = {
  model: z.string().min(1).max(128),
  /** A variant of the model (`int8`, `pruned-30`, …); absent: the model's default variant. */
  variant: z.string().min(1).max(32).optional(),
  priority: PrioritySchema.default('normal'),
  deadline_ms: z.int().min(1).max(JobLimits.maxDeadlineMs).optional(),
  routing_key: z.string().min(1).max(JobLimits.maxRoutingKeyChars).optional(),
  cache: CacheModeSchema.default('default'),
  webhook: WebhookSchema.optional(),
};

export const GenerateJobRequestSchema = z.strictObject({
  ...commonJobFields,
  task: z.literal('generate'),
  input: GenerateInputSchema,
  params: GenerationParamsSchema.default({}),
  /**
   * The client will follow the job's events (`GET /v1/jobs/{id}/events`): its tokens are written
   * from the first one even if the job ends before the client connects. Without it, token events
   * are written only once a follower connects (with every token produced so far).
   */
  stream: z.boolean().optional(),
});

export const EmbedJobRequestSchema = z.strictObject({
  ...commonJobFields,
  task: z.literal('embed'),
  input: EmbedInputSchema,
  params: z.strictObject({}).default({}),
});

/** `POST /v1/jobs` body: one discriminated union member per task. */
export const JobRequestSchema = z.discriminatedUnion('task', [
  GenerateJobRequestSchema,
  EmbedJobRequestSchema,
]);
export type JobRequest = z.infer<typeof JobRequestSchema>;
export type JobRequestInput = z.input<typeof JobRequestSchema>;

/** `POST /v1/jobs/batch` body. Each member is validated on its own so one bad job does not reject the rest. */
export const BatchJobRequestSchema = z.strictObject({
  jobs: z.array(z.unknown()).min(1).max(JobLimits.maxBatchJobs),
});

export const JobStatusSchema = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatusSchema>;

export const FinishReasonSchema = z.enum(['stop', 'length', 'cancelled']);
export type FinishReason = z.infer<typeof FinishReasonSchema>;

export const GenerateResultSchema = z.object({
  text: z.string(),
  tokens: z.array(z.int()),
  finish_reason: FinishReasonSchema,
});
export type GenerateResult = z.infer<typeof GenerateResultSchema>;

export const EmbedResultSchema = z.object({
  embeddings: z.array(z.array(z.number())),
  /**
   * Indexes of the texts longer than the model's context: each was embedded from its first
   * `context` tokens, and `usage.prompt_tokens` counts only those. Absent when none was cut.
   */
  truncated: z.array(z.int()).optional(),
});
export type EmbedResult = z.infer<typeof EmbedResultSchema>;

export const JobResultSchema = z.union([GenerateResultSchema, EmbedResultSchema]);
export type JobResult = z.infer<typeof JobResultSchema>;

export const UsageSchema = z.object({
  prompt_tokens: z.int(),
  completion_tokens: z.int(),
  /** Prompt tokens whose KV came from the replica's prefix cache instead of a prefill (onnx generate). */
  cached_tokens: z.int().optional(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const TimingsSchema = z.object({
  queue: z.number().nullable(),
  batch_wait: z.number().nullable(),
  inference: z.number().nullable(),
  total: z.number().nullable(),
});
export type Timings = z.infer<typeof TimingsSchema>;

export const JobErrorSchema = z.object({ code: z.string(), message: z.string() });
export type JobError = z.infer<typeof JobErrorSchema>;

/** `GET /v1/jobs/{id}`: the public view of a job. */
export const JobViewSchema = z.object({
  id: z.string(),
  status: JobStatusSchema,
  model: z.string(),
  task: TaskSchema,
  priority: PrioritySchema,
  shard: z.int(),
  result: JobResultSchema.nullable(),
  error: JobErrorSchema.nullable(),
  cached: z.boolean(),
  usage: UsageSchema.nullable(),
  timings_ms: TimingsSchema,
  attempts: z.int(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type JobView = z.infer<typeof JobViewSchema>;

/** One entry of a `POST /v1/jobs/batch` answer: the job, or the error that refused it. */
export const BatchEntrySchema = z.union([
  z.object({ status_code: z.int(), job: JobViewSchema }),
  z.object({
    status_code: z.int(),
    error: z.object({ code: z.string(), message: z.string(), param: z.string().optional() }),
  }),
]);
export type BatchEntry = z.infer<typeof BatchEntrySchema>;
