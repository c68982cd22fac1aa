export {
  E2eCluster,
  type ApiHandle,
  type WorkerHandle,
  type ClusterHooks,
  type ModelConfigInput,
  API_MAIN,
  WORKER_MAIN,
  REPO_ROOT,
} from './cluster';
export {
  HotpathClient,
  type HttpResponse,
  type ApiError,
  asJob,
  asError,
  describe,
} from '@hotpath/job-client';
export { ManagedProcess, type ExitInfo } from '@hotpath/process-kit';
export { pingRedis } from '@hotpath/redis-local';
export { RedisServer } from './redis-server';
export { waitFor, sleep, WaitAborted } from './wait';
export { generateJob, embedJob } from './jobs';
export { fetchMetrics, metricNames, sampleValue } from './metrics';
