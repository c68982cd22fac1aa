import type {
  JobError,
  JobResult,
  JobStatus,
  JobView,
  Priority,
  Task,
  Timings,
  Usage,
} from '@hotpath/contracts';

/** The stored state of one job: the public view plus what only the cluster may see (its tenant). */
export interface JobRecord {
  id: string;
  tenant: string;
  model: string;
  task: Task;
  priority: Priority;
  shard: number;
  status: JobStatus;
  result: JobResult | null;
  error: JobError | null;
  cached: boolean;
  usage: Usage | null;
  timings: Timings;
  attempts: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  cancelRequested: boolean;
  cacheKey?: string;
  /** A stream follows the job: its worker writes token events. */
  watched?: boolean;
}

export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const EMPTY_TIMINGS: Timings = { queue: null, batch_wait: null, inference: null, total: null };

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The public JSON of a job (docs/api.md#jobs); the tenant never leaves the cluster. */
export function toJobView(r: JobRecord): JobView {
  return {
    id: r.id,
    status: r.status,
    model: r.model,
    task: r.task,
    priority: r.priority,
    shard: r.shard,
    result: r.result,
    error: r.error,
    cached: r.cached,
    usage: r.usage,
    timings_ms: r.timings,
    attempts: r.attempts,
    created_at: new Date(r.createdAt).toISOString(),
    started_at: iso(r.startedAt),
    finished_at: iso(r.finishedAt),
  };
}
