export { DEFAULT_CLUSTER_CONFIG } from './default-cluster-config';
export {
  type LoadedClusterConfig,
  parseClusterConfig,
  loadClusterConfig,
  findModel,
  expandVariants,
  variantNames,
} from './cluster-config.loader';
export { envBoolean, envPort, redisUrl, commonEnvShape, parseEnv } from './env';
