import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ErrorCode, HotpathError, type ClusterConfig } from '@hotpath/contracts';
import { commonEnvShape, envPort, loadClusterConfig, parseEnv } from '@hotpath/config';
import type { LogLevel } from '@hotpath/telemetry';
import { assertUniqueKeys, parseApiKeyFile, parseApiKeyList, type ApiKeyEntry } from '../auth/api-keys';

/** The API's environment (SPEC §2). Parsed once in `main.ts`; nothing else reads `process.env`. */
export const ApiEnvSchema = z.object({
  ...commonEnvShape,
  PORT: envPort.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  HOTPATH_API_KEYS: z.string().optional(),
  HOTPATH_API_KEYS_FILE: z.string().min(1).optional(),
});
export type ApiEnv = z.infer<typeof ApiEnvSchema>;

/** Everything the API needs, typed and nested; provided to Nest under {@link API_CONFIG}. */
export interface ApiConfig {
  http: { host: string; port: number };
  redis: { url: string };
  cluster: ClusterConfig;
  /** Where the cluster config came from (a file path or `built-in`). */
  clusterSource: string;
  auth: { keys: readonly ApiKeyEntry[] };
  results: { ttlS: number };
  log: { level: LogLevel };
  traceContent: boolean;
  dataDir: string;
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
  return {
    http: { host: e.HOST, port: e.PORT },
    redis: { url: e.REDIS_URL },
    cluster: cluster.config,
    clusterSource: cluster.source,
    auth: { keys },
    results: { ttlS: e.HOTPATH_RESULT_TTL_S },
    log: { level: e.LOG_LEVEL },
    traceContent: e.HOTPATH_TRACE_CONTENT,
    dataDir: e.HOTPATH_DATA_DIR,
  };
}
