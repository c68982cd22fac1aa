import { parseDocument } from 'yaml';
import {
  ErrorCode,
  HotpathError,
  TenantsSchema,
  formatIssues,
  type ClusterConfig,
  type TenantsConfig,
} from '@hotpath/contracts';
import { loadClusterConfig } from './cluster-config.loader';

/**
 * Parses `HOTPATH_TENANTS`: the `tenants` section of the cluster config as YAML or JSON (it wins
 * over the file's section when set). Errors name the variable and every bad field.
 */
export function parseTenantsEnv(text: string): TenantsConfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new HotpathError(
      ErrorCode.InvalidConfig,
      `HOTPATH_TENANTS is not valid YAML or JSON: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`,
    );
  }
  const parsed = TenantsSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    throw new HotpathError(
      ErrorCode.InvalidConfig,
      `invalid HOTPATH_TENANTS:\n${formatIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}

/** The cluster config with `HOTPATH_TENANTS` (when set) in place of its `tenants` section. */
export function withTenantsFromEnv(cluster: ClusterConfig, envText: string | undefined): ClusterConfig {
  if (envText === undefined || envText.trim() === '') return cluster;
  return { ...cluster, tenants: parseTenantsEnv(envText) };
}

/**
 * The tenant settings as they are now (for a reload): `HOTPATH_TENANTS` when set, else the
 * `tenants` section of the config file read again. Throws on an invalid file, leaving the caller's
 * current settings in force.
 */
export function reloadTenants(
  configPath: string | undefined,
  envText: string | undefined,
  baseDir: string,
): TenantsConfig {
  if (envText !== undefined && envText.trim() !== '') return parseTenantsEnv(envText);
  return loadClusterConfig(configPath, baseDir).config.tenants;
}

/**
 * Holds the tenant settings a process uses and lets a reload swap them in place; readers always
 * call {@link TenantSettings.current}, so a reload takes effect with the next request or job.
 */
export class TenantSettings {
  private config: TenantsConfig;
  private readonly listeners: ((c: TenantsConfig) => void)[] = [];

  constructor(initial: TenantsConfig) {
    this.config = initial;
  }

  current(): TenantsConfig {
    return this.config;
  }

  replace(next: TenantsConfig): void {
    this.config = next;
    for (const l of this.listeners) l(next);
  }

  onChange(listener: (c: TenantsConfig) => void): void {
    this.listeners.push(listener);
  }
}

/** The label of tenants that are not named in the config (keeps Prometheus series bounded). */
export const OTHER_TENANT_LABEL = '_other';

/**
 * The `tenant` label of a tenant's series: its name when the config names it (`tenants.overrides`)
 * or `known` holds it (the API's key tenants), else {@link OTHER_TENANT_LABEL}.
 */
export function tenantMetricLabel(
  config: TenantsConfig,
  tenant: string,
  known?: ReadonlySet<string>,
): string {
  return tenant in config.overrides || known?.has(tenant) ? tenant : OTHER_TENANT_LABEL;
}

/** Where tenant settings are read from again on a reload. */
export interface TenantSource {
  configPath: string | undefined;
  envText: string | undefined;
  baseDir: string;
}

/**
 * Reloads the tenant settings on SIGHUP without a restart: the new settings apply from the next
 * request (API) or job (worker); an invalid file is reported and the running settings stay.
 * Returns a function that removes the handler.
 */
export function reloadTenantsOnSignal(
  settings: TenantSettings,
  source: TenantSource,
  report: (ok: boolean, message: string, tenants?: string[]) => void,
): () => void {
  const onSignal = (): void => {
    try {
      const next = reloadTenants(source.configPath, source.envText, source.baseDir);
      settings.replace(next);
      report(true, 'tenant settings reloaded', Object.keys(next.overrides));
    } catch (err) {
      report(false, `tenant settings not reloaded: ${(err as Error).message}`);
    }
  };
  process.on('SIGHUP', onSignal);
  return () => process.off('SIGHUP', onSignal);
}
