export { type BatchReport, type BatchReporter, type ScheduleOptions } from './batch-report';
export { DEFAULT_AGING_MS } from './priority-order';
export {
  MicroBatcher,
  type BatchOutcome,
  type BatchRunner,
  type MicroBatcherOptions,
  type MicroSubmitOptions,
} from './micro-batcher';
export {
  IterationScheduler,
  DEFAULT_SCHEDULER_POLICY,
  type IterationSchedulerOptions,
  type ScheduledOutcome,
  type SchedulerPolicy,
  type SequenceEngine,
  type SequenceOptions,
  type SequenceStep,
} from './iteration-scheduler';
