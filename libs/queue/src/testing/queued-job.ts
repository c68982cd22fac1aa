import { randomUUID } from 'node:crypto';
import type { Priority, QueuedJob } from '@hotpath/contracts';

/** A queued generate job for the queue library's tests: a fresh id, enqueued now. */
export function queuedTestJob(
  model: string,
  opts: { tenant?: string; priority?: Priority; shard?: number } = {},
): QueuedJob {
  return {
    id: randomUUID(),
    tenant: opts.tenant ?? 'a',
    model,
    shard: opts.shard ?? 0,
    priority: opts.priority ?? 'normal',
    task: 'generate',
    input: { prompt: 'p' },
    params: {},
    deadline_at: null,
    enqueued_at: Date.now(),
  };
}
