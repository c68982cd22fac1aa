export {
  type RedisClient,
  type ConnectionRole,
  redisOptionsFromUrl,
  createRedisConnection,
  isCluster,
  untilReady,
  waitForRedis,
} from './redis-connection';
export { REDIS_QUIT_TIMEOUT_MS, closeRedis } from './redis-close';
export {
  type RedisMode,
  REDIS_MODES,
  type HostPort,
  type RedisTarget,
  type RedisTargetInput,
  parseHostPorts,
  parseRedisTarget,
  standaloneTarget,
  type RedisEnv,
  redisTargetFromEnv,
  durabilityOf,
} from './redis-target';
export {
  CLUSTER_SLOTS,
  hashTagOf,
  keySlot,
  taggedKey,
  CrossSlotError,
  sameSlot,
  assertSameSlot,
  groupBySlot,
} from './redis-slots';
export { type Durability, ReplicaAckError, waitForReplicas } from './replica-ack';
export { jumpConsistentHash, hash64, type RoutingInput, routeToShard } from './shard-router';
export { type ShardSelection, WorkerShardsError, parseWorkerShards, shardsServed } from './worker-shards';
export { type JobRecord, TERMINAL_STATUSES, isTerminal, EMPTY_TIMINGS, toJobView } from './job-record';
export {
  JOB_EVENTS_CHANNEL,
  JOB_CANCEL_CHANNEL,
  JOB_WATCH_CHANNEL,
  jobRecordKey,
  type TransitionResult,
  type JobStoreOptions,
  JobStore,
} from './job-store';
export { JobWaiter } from './job-waiter';
export { type RetrySettings, jobOptions, retrySettings } from './job-options';
export { type RemoveOutcome, ShardQueues } from './shard-queues';
export {
  type LaneJob,
  type ExpiredLease,
  type LaneRemoval,
  type LaneCounts,
  type LaneMinute,
  LANE_MINUTES_KEPT,
  laneWakeChannel,
  laneCounts,
  laneKeys,
  ShardLane,
} from './shard-lane';
export { ADMISSION_RESERVATION_TTL_MS, type Admission, AdmissionGate } from './admission-gate';
export { type IdempotencyClaim, IdempotencyStore } from './idempotency';
export {
  jobEventsKey,
  type JobStreamRef,
  JOB_EVENTS_MAXLEN,
  JOB_STREAMS_CHANNEL,
  type StreamToken,
  type JobStreamEvent,
  type JobStreamEntry,
  encodeJobEvent,
  decodeJobEvents,
} from './job-event-stream';
export { type JobEventPublisherOptions, JobEventPublisher, JobEventSink } from './job-event-publisher';
export { isStreamId, compareStreamIds, streamReadCursor } from './job-stream-ids';
export {
  type JobEventListener,
  type JobEventSubscription,
  type JobEventReaderOptions,
  JobEventReader,
} from './job-event-reader';
export {
  WEBHOOK_QUEUE,
  WEBHOOK_QUEUE_MAX_ATTEMPTS,
  WEBHOOK_BACKOFF_TYPE,
  type WebhookDelivery,
  webhookIdFor,
  parseWebhookDelivery,
  WebhookQueue,
} from './webhook-queue';
export { WEBHOOK_SECRET_TTL_S, webhookSecretKey, WebhookSecrets } from './webhook-secrets';
export {
  type DeadLetter,
  type DeadLetterView,
  deadLetterView,
  WebhookDeadLetters,
} from './webhook-dead-letters';
export {
  chatTemplateKey,
  type ChatTemplateInfo,
  chatTemplateFromTokenizerConfig,
  ModelChatTemplates,
} from './model-chat-templates';
export {
  inputLimitsKey,
  type ModelInputLimits,
  minTokens,
  ModelInputLimitsStore,
} from './model-input-limits';
export {
  FAIR_RECLAIM_MS,
  FAIR_WAITING_CHANNEL,
  fairWaitingMessage,
  fairHeldMessage,
  parseFairChannelMessage,
  type FairChannelMessage,
  fairBacklogKey,
  fairKey,
  fairWaiting,
  countsAsRunning,
  type FairAdmission,
  type FairDispatch,
  type FairTenant,
  FairQueue,
} from './fair-queue';
export { type FairShard, FairDispatcher, FAIR_HOLD_BACKOFF_MS } from './fair-dispatcher';
export { type RateLimits, type RateDecision, requestBurst, RateLimiter } from './rate-limiter';
export {
  USAGE_COUNTERS,
  type UsageCounter,
  type UsageCounts,
  USAGE_BUCKET_MS,
  USAGE_FLUSH_MS,
  type UsageReport,
  UsageStore,
} from './usage-store';
export {
  WORKERS_KEY,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_STALE_MS,
  type ServedModelBeat,
  type WorkerHeartbeat,
  type WorkerStatus,
  WorkerRegistry,
  Availability,
  AvailabilityCache,
} from './worker-registry';
export {
  tenantJobsKey,
  ALL_JOBS_KEY,
  TENANT_INDEX_MAX,
  ALL_INDEX_MAX,
  type JobListQuery,
  type JobListPage,
  decodeCursor,
  JobIndex,
} from './job-index';
