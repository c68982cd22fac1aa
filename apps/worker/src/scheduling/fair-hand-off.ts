import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { fairLookahead, type ModelConfig } from '@hotpath/contracts';
import { countsAsRunning, type FairDispatcher } from '@hotpath/queue';
import { isLastAttempt } from '../jobs/job-decisions';

type Processor<R> = (job: Job, token?: string) => Promise<R>;

/**
 * Whether a processor's error ends the job for good. A handed-back job (DelayedError) and a failed
 * attempt BullMQ will retry stay in the queue: their place is still taken.
 */
export function endsJob(err: unknown, job: Job): boolean {
  if (err instanceof DelayedError) return false;
  if (err instanceof UnrecoverableError) return true;
  return isLastAttempt(job.attemptsMade, job.opts.attempts);
}

/**
 * Wraps a shard processor so that a job taken from BullMQ lets the next job in fair order in (its
 * lookahead place is free), and a job that ends for good also frees its tenant's running place.
 */
export function withFairHandOff<R>(
  processor: Processor<R>,
  dispatcher: FairDispatcher,
  model: string,
  shard: number,
): Processor<R> {
  return async (job, token) => {
    dispatcher.started(model, shard);
    let ended = true;
    try {
      return await processor(job, token);
    } catch (err) {
      ended = endsJob(err, job);
      throw err;
    } finally {
      const tenant = (job.data as { tenant?: unknown } | undefined)?.tenant;
      // A job its tenant's running count never included ends without a dispatch call (unless jobs wait).
      const uncounts = ended && typeof tenant === 'string' && countsAsRunning(job.data);
      dispatcher.settled(model, shard, uncounts ? tenant : undefined);
    }
  };
}

/** Registers every shard of the models with fairness on that this worker serves or may steal from. */
export function addFairShards(dispatcher: FairDispatcher, models: readonly ModelConfig[]): number {
  let n = 0;
  for (const m of models) {
    if (!m.fairness.enabled) continue;
    for (let shard = 0; shard < m.shards; shard++) {
      dispatcher.add({ model: m.name, shard, lookahead: fairLookahead(m), capacity: m.concurrency });
      n++;
    }
  }
  return n;
}
