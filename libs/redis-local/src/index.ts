export {
  type RedisPersistence,
  type RedisServerOptions,
  RedisProcess,
  rawCommand,
  redisServerArgs,
  until,
} from './redis-process';
export { LOCAL_REDIS_URL, pingRedis } from './redis-ping';
export { type EmbeddedRedis, redisServerOnPath, startEmbeddedRedis } from './embedded-redis';
export { REDIS_PING_TIMEOUT_MS, REDIS_START_TIMEOUT_MS, REDIS_STOP_TIMEOUT_MS } from './timeouts';
export {
  type LocalClusterOptions,
  type ClusterNode,
  LocalRedisCluster,
  parseClusterNodes,
} from './local-redis-cluster';
export { type LocalSentinelOptions, LocalSentinelGroup } from './local-sentinel';
