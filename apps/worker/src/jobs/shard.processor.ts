import type { Job } from 'bullmq';
import type { JobRunner, RunOutcome } from './job-runner.service';

/**
 * The BullMQ processor of one shard queue of `model`. Deliberately thin: everything a job needs
 * (parsing, admission, the backend call, the job store, metrics) lives in {@link JobRunner}.
 */
export function createShardProcessor(
  runner: JobRunner,
  model: string,
): (job: Job, token?: string) => Promise<RunOutcome> {
  return (job, token) => runner.run(model, job, token);
}
