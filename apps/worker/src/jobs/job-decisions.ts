import {
  ErrorCode,
  HotpathError,
  type JobStatus,
  type ModelConfig,
  type QueuedJob,
  type Timings,
} from '@hotpath/contracts';

/** Why the worker aborted a running job. */
export type AbortKind = 'cancelled' | 'deadline' | 'shutdown';

/** The `reason` the worker passes to `AbortController.abort` so the runner can tell aborts apart. */
export class JobAbort extends Error {
  override readonly name = 'JobAbort';

  constructor(readonly kind: AbortKind) {
    super(`job aborted: ${kind}`);
  }
}

/** The abort kind of a signal, or `undefined` when it has not been aborted by the worker. */
export function abortKind(signal: AbortSignal): AbortKind | undefined {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  return reason instanceof JobAbort ? reason.kind : 'cancelled';
}

/** What to do with a parsed job before running it. */
export type Admission =
  | { action: 'run' }
  | { action: 'skip'; why: 'missing' | 'cancelled' | 'finished' }
  | { action: 'deadline_exceeded' }
  | { action: 'invalid'; message: string };

/**
 * Decides whether a job runs: a missing record (expired, deleted) or a cancelled or already
 * finished one is skipped; a passed deadline fails it without running; a payload that does not
 * belong to the queue's model or asks for a task the model does not serve is invalid input.
 */
export function admitJob(
  job: QueuedJob,
  model: ModelConfig,
  status: JobStatus | undefined,
  now: number,
): Admission {
  if (job.model !== model.name) {
    return { action: 'invalid', message: `job for model "${job.model}" on a queue of "${model.name}"` };
  }
  if (!model.tasks.includes(job.task)) {
    return { action: 'invalid', message: `model "${model.name}" does not serve task "${job.task}"` };
  }
  if (status === undefined) return { action: 'skip', why: 'missing' };
  if (status === 'cancelled') return { action: 'skip', why: 'cancelled' };
  if (status === 'completed' || status === 'failed') return { action: 'skip', why: 'finished' };
  if (job.deadline_at !== null && now >= job.deadline_at) return { action: 'deadline_exceeded' };
  return { action: 'run' };
}

/** Fills in what the request left to the model: `max_tokens` defaults to `default_max_tokens`. */
export function withModelDefaults(job: QueuedJob, model: ModelConfig): QueuedJob {
  if (job.task !== 'generate' || job.params.max_tokens !== undefined) return job;
  return { ...job, params: { ...job.params, max_tokens: model.default_max_tokens } };
}

/** True when this attempt (1-based: `attemptsMade + 1`) is the job's last one. */
export function isLastAttempt(attemptsMade: number, attempts: number | undefined): boolean {
  return attemptsMade + 1 >= Math.max(1, attempts ?? 1);
}

/** Error codes a retry cannot fix: the job fails at once with the backend's own code. */
const PERMANENT_CODES: ReadonlySet<string> = new Set([ErrorCode.InvalidInput, ErrorCode.InvalidModel]);

/** How a run ended, as the runner saw it. */
export interface RunEnd {
  /** The backend returned an answer. */
  succeeded: boolean;
  /** The answer was cut short by an abort (generate `finish_reason: cancelled`). */
  cutShort: boolean;
  abort: AbortKind | undefined;
  error: unknown;
  lastAttempt: boolean;
}

/** What the runner does after the backend call. */
export type Settlement =
  | { action: 'complete' }
  | { action: 'cancelled' }
  | { action: 'deadline_exceeded' }
  | { action: 'hand_back' }
  | { action: 'retry' }
  | { action: 'fail'; code: string; message: string };

/**
 * Settles a run. A complete answer is kept even when an abort arrived late (the work is done). An
 * abort decides otherwise: cancellation ends the job, a deadline fails it, shutdown hands it back
 * to the queue. Errors retry while attempts remain, except permanent ones.
 */
export function settleRun(end: RunEnd): Settlement {
  if (end.succeeded && !end.cutShort) return { action: 'complete' };
  switch (end.abort) {
    case 'cancelled':
      return { action: 'cancelled' };
    case 'deadline':
      return { action: 'deadline_exceeded' };
    case 'shutdown':
      return { action: 'hand_back' };
    case undefined:
      break;
  }
  if (end.succeeded) return { action: 'complete' };
  const err = end.error;
  if (err instanceof HotpathError && PERMANENT_CODES.has(err.code)) {
    return { action: 'fail', code: err.code, message: err.message };
  }
  if (!end.lastAttempt) return { action: 'retry' };
  return { action: 'fail', code: ErrorCode.InferenceFailed, message: errorMessage(err) };
}

/** A message for a stored job error; never the job's input. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** `timings_ms` of a job from its enqueue time, the start of this attempt and the backend's measurements. */
export function jobTimings(
  enqueuedAt: number,
  startedAt: number,
  finishedAt: number,
  backend?: { batchWaitMs: number; inferenceMs: number },
): Timings {
  return {
    queue: Math.max(0, startedAt - enqueuedAt),
    batch_wait: backend ? round(backend.batchWaitMs) : null,
    inference: backend ? round(backend.inferenceMs) : null,
    total: Math.max(0, finishedAt - enqueuedAt),
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
