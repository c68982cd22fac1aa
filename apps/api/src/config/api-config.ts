import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ErrorCode, HotpathError, type ClusterConfig } from '@hotpath/contracts';
import {
  commonEnvShape,
  envPort,
  loadClusterConfig,
  parseEnv,
  withTenantsFromEnv,
  type TenantSource,
} from '@hotpath/config';
import { redisTargetFromEnv, type RedisTarget } from '@hotpath/queue';
import type { LogLevel } from '@hotpath/telemetry';
import { assertUniqueKeys, parseApiKeyFile, parseApiKeyList, type ApiKeyEntry } from '../auth/api-keys';

/** The API's environment (docs/configuration.md). Parsed once in `main.ts`; nothing else reads `process.env`. */
export const ApiEnvSchema = z.object({
  ...commonEnvShape,
  PORT: envPort.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  HOTPATH_API_KEYS: z.string().optional(),
  HOTPATH_API_KEYS_FILE: z.string().min(1).optional(),
  /** `name:key,...`: keys of the operator routes under `/v1/admin` (webhook dead letters). */
  HOTPATH_ADMIN_KEYS: z.string().optional(),
  /** Comma list of webhook target hosts (`example.com`, `*.example.com`, `127.0.0.1`, `*`). */
  HOTPATH_WEBHOOK_ALLOWED_HOSTS: z.string().optional(),
});
export type ApiEnv = z.infer<typeof ApiEnvSchema>;

/** Everything the API needs, typed and nested; provided to Nest under {@link API_CONFIG}. */
export interface ApiConfig {
  http: { host: string; port: number };
  /** `REDIS_URL`, `REDIS_MODE`, Sentinels and the replica acknowledgement of accepted jobs. */
  redis: RedisTarget;
  cluster: ClusterConfig;
  /** Where the cluster config came from (a file path or `built-in`). */
  clusterSource: string;
  /** Where tenant settings are read again on SIGHUP; absent = no reload (tests). */
  tenantSource?: TenantSource;
  auth: { keys: readonly ApiKeyEntry[] };
  results: { ttlS: number };
  log: { level: LogLevel };
  traceContent: boolean;
  dataDir: string;
  /** Operator keys (`HOTPATH_ADMIN_KEYS`); none = admin routes only in open dev mode. */
  admin?: { keys: readonly ApiKeyEntry[] };
  /**
   * Allowed webhook target hosts (`HOTPATH_WEBHOOK_ALLOWED_HOSTS`); `undefined` = the default:
   * any host in open dev mode, none when API keys are configured.
   */
  webhooks?: { allowedHosts: readonly string[] | undefined };
}

/**
 * Parses and loads the whole API configuration: env variables, the cluster config file and the
 * API key file. Throws a {@link HotpathError} (`invalid_config`) naming the variable at fault.
 */
export function loadApiConfig(
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ApiConfig {
  const e = parseEnv(ApiEnvSchema, env);
  let cluster: ReturnType<typeof loadClusterConfig>;
  try {
    cluster = loadClusterConfig(e.HOTPATH_CONFIG, e.HOTPATH_DATA_DIR);
  } catch (err) {
    throw new HotpathError(ErrorCode.InvalidConfig, `HOTPATH_CONFIG: ${(err as Error).message}`);
  }
  const keys: ApiKeyEntry[] = [];
  if (e.HOTPATH_API_KEYS) keys.push(...parseApiKeyList(e.HOTPATH_API_KEYS, 'HOTPATH_API_KEYS'));
  if (e.HOTPATH_API_KEYS_FILE) {
    let text: string;
    try {
      text = readFile(e.HOTPATH_API_KEYS_FILE);
    } catch (err) {
      throw new HotpathError(
        ErrorCode.InvalidConfig,
        `HOTPATH_API_KEYS_FILE: cannot read ${e.HOTPATH_API_KEYS_FILE}: ${(err as Error).message}`,
      );
    }
    const fromFile = parseApiKeyFile(text, e.HOTPATH_API_KEYS_FILE);
    if (fromFile.length === 0) {
      throw new HotpathError(
        ErrorCode.InvalidConfig,
        `HOTPATH_API_KEYS_FILE: ${e.HOTPATH_API_KEYS_FILE} holds no tenant:key entries`,
      );
    }
    keys.push(...fromFile);
  }
  assertUniqueKeys(keys);
  const adminKeys = e.HOTPATH_ADMIN_KEYS ? parseApiKeyList(e.HOTPATH_ADMIN_KEYS, 'HOTPATH_ADMIN_KEYS') : [];
  assertUniqueKeys(adminKeys);
  return {
    http: { host: e.HOST, port: e.PORT },
    redis: redisTargetFromEnv(e),
    cluster: withTenantsFromEnv(cluster.config, e.HOTPATH_TENANTS),
    clusterSource: cluster.source,
    tenantSource: { configPath: e.HOTPATH_CONFIG, envText: e.HOTPATH_TENANTS, baseDir: e.HOTPATH_DATA_DIR },
    auth: { keys },
    results: { ttlS: e.HOTPATH_RESULT_TTL_S },
    log: { level: e.LOG_LEVEL },
    traceContent: e.HOTPATH_TRACE_CONTENT || e.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
    dataDir: e.HOTPATH_DATA_DIR,
    admin: { keys: adminKeys },
    webhooks: { allowedHosts: parseAllowedHosts(e.HOTPATH_WEBHOOK_ALLOWED_HOSTS) },
  };
}

/**
 * `HOTPATH_WEBHOOK_ALLOWED_HOSTS`: comma-separated host names, IP literals, `*.domain` (any
 * subdomain) or `*` (any host). Unset or blank = `undefined` (the default policy).
 */
export function parseAllowedHosts(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const hosts = value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  for (const h of hosts) {
    if (h === '*') continue;
    const name = h.startsWith('*.') ? h.slice(2) : h;
    if (!/^[a-z0-9.:[\]_-]+$/.test(name) || name.includes('*')) {
      throw new HotpathError(
        ErrorCode.InvalidConfig,
        `HOTPATH_WEBHOOK_ALLOWED_HOSTS: "${h.slice(0, 100)}" is not a host name, IP address, *.domain or *`,
      );
    }
  }
  return hosts;
}
