export {
  type ConnectionRole,
  redisOptionsFromUrl,
  createRedisConnection,
  waitForRedis,
} from './redis-connection';
export { jumpConsistentHash, hash64, type RoutingInput, routeToShard } from './shard-router';
export { type ShardSelection, WorkerShardsError, parseWorkerShards, shardsServed } from './worker-shards';
export { type JobRecord, TERMINAL_STATUSES, isTerminal, EMPTY_TIMINGS, toJobView } from './job-record';
export {
  JOB_EVENTS_CHANNEL,
  JOB_CANCEL_CHANNEL,
  jobRecordKey,
  type TransitionResult,
  type JobStoreOptions,
  JobStore,
} from './job-store';
export { JobWaiter } from './job-waiter';
export { type RetrySettings, jobOptions } from './job-options';
export { type RemoveOutcome, ShardQueues } from './shard-queues';
export { type IdempotencyClaim, IdempotencyStore } from './idempotency';
