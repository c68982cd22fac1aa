import type { JobsOptions } from 'bullmq';
import { PRIORITY_VALUE, type Priority } from '@hotpath/contracts';

export interface RetrySettings {
  attempts: number;
  backoff_ms: number;
  /** How long a failed job stays (`queue.failed_retention_s`; default a day). */
  failed_retention_s?: number;
}

/** The retry settings of a cluster's `queue` section, as every producer of shard-queue jobs uses them. */
export function retrySettings(queue: RetrySettings): RetrySettings {
  return {
    attempts: queue.attempts,
    backoff_ms: queue.backoff_ms,
    failed_retention_s: queue.failed_retention_s,
  };
}

/**
 * BullMQ options for one job. Completed jobs leave BullMQ at once (results live in the job store);
 * failed ones stay `failed_retention_s` for operators (BullMQ trims them when a later job fails;
 * the workers' sweeper removes the rest). Every job but a `front` one has a priority so the order is
 * total.
 */
export function jobOptions(id: string, priority: Priority, retry: RetrySettings, front = false): JobsOptions {
  return {
    jobId: id,
    // BullMQ takes jobs without a priority (its `wait` list) before prioritized ones: `front` jobs
    // (a slot held for their tenant, docs/tenancy.md) start before every job already queued.
    ...(front ? {} : { priority: PRIORITY_VALUE[priority] }),
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoff_ms },
    removeOnComplete: true,
    removeOnFail: { age: retry.failed_retention_s ?? 24 * 3600, count: 10_000 },
  };
}
