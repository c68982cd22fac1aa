export { RedisProcess, rawCommand, until } from './redis-process';
export {
  type LocalClusterOptions,
  type ClusterNode,
  LocalRedisCluster,
  parseClusterNodes,
} from './local-redis-cluster';
export { type LocalSentinelOptions, LocalSentinelGroup } from './local-sentinel';
