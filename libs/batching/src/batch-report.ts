import type { Priority } from '@hotpath/contracts';

/** Per-item scheduling hints, the same for both schedulers. */
export interface ScheduleOptions<Tag = unknown> {
  /** Waiting items are taken highest priority first, with aging (see `sortByPriority`). */
  priority?: Priority;
  /** Epoch ms after which the item leaves with `deadline_exceeded`, waiting or running. */
  deadlineAt?: number | null;
  /** Names the item in {@link BatchReport.tags} (a job's trace context, a replica message id). */
  tag?: Tag;
}

/**
 * What a scheduler ran, reported after the fact: one model execution (`batch`, a micro-batch) or
 * a run of forwards over one unchanged set of sequences (`prefill`, or consecutive `decode` steps
 * until a sequence joins or leaves). Neither scheduler opens spans itself: the caller turns reports
 * into batch spans (or metrics), so the same code serves a worker thread and the main thread.
 */
export interface BatchReport<Tag = unknown> {
  kind: 'batch' | 'prefill' | 'decode';
  /** Tags of the members that carried one, in batch order. */
  tags: Tag[];
  /** Members in the execution (tagged or not). */
  size: number;
  /** Epoch ms of the first forward's start and the last forward's end. */
  startedAt: number;
  endedAt: number;
  /** Forwards in the run (1 for `batch` and `prefill`). */
  forwards: number;
  /** Tokens the run consumed and produced, when the scheduler knows them. */
  inputTokens?: number;
  outputTokens?: number;
  /** Set when the execution failed (every member failed with it). */
  error?: string;
}

/** Receives {@link BatchReport}s; always called before any member's promise settles because of it. */
export type BatchReporter<Tag = unknown> = (report: BatchReport<Tag>) => void;
