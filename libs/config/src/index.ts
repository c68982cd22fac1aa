export { DEFAULT_CLUSTER_CONFIG } from './default-cluster-config';
export {
  type LoadedClusterConfig,
  type DeprecationSink,
  parseClusterConfig,
  loadClusterConfig,
  findModel,
  expandVariants,
  variantNames,
} from './cluster-config.loader';
export { envBoolean, envPort, redisUrl, commonEnvShape, parseEnv } from './env';
export {
  parseTenantsEnv,
  withTenantsFromEnv,
  reloadTenants,
  TenantSettings,
  OTHER_TENANT_LABEL,
  tenantMetricLabel,
  type TenantSource,
  reloadTenantsOnSignal,
} from './tenants-config';
