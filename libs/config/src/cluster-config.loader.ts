import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import {
  ClusterConfigSchema,
  ErrorCode,
  HotpathError,
  formatIssues,
  type ClusterConfig,
  type ModelConfig,
} from '@hotpath/contracts';
import { DEFAULT_CLUSTER_CONFIG } from './default-cluster-config';

/** A loaded cluster config and where it came from (for logs and for resolving model paths). */
export interface LoadedClusterConfig {
  config: ClusterConfig;
  /** The file it was read from, or `built-in`. */
  source: string;
}

/**
 * Validates a cluster config object. Every problem is listed at once, each with its field path,
 * so an operator fixes the file in one go. Relative model paths resolve against `baseDir`.
 */
export function parseClusterConfig(raw: unknown, source: string, baseDir: string): ClusterConfig {
  const parsed = ClusterConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new HotpathError(
      ErrorCode.InvalidConfig,
      `invalid cluster config ${source}:\n${formatIssues(parsed.error)}`,
    );
  }
  const models: ModelConfig[] = parsed.data.models.map((m) =>
    m.path && !isAbsolute(m.path) ? { ...m, path: resolve(baseDir, m.path) } : m,
  );
  return { ...parsed.data, models };
}

/**
 * Reads `HOTPATH_CONFIG` (YAML or JSON), or returns the built-in default when `path` is undefined.
 * Built-in relative model paths resolve against `defaultBaseDir` (the `.hotpath/` data folder).
 */
export function loadClusterConfig(
  path: string | undefined,
  defaultBaseDir = process.cwd(),
): LoadedClusterConfig {
  if (!path) {
    return {
      config: parseClusterConfig(DEFAULT_CLUSTER_CONFIG, 'built-in', defaultBaseDir),
      source: 'built-in',
    };
  }
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HotpathError(
      ErrorCode.InvalidConfig,
      `cannot read cluster config ${file}: ${(err as Error).message}`,
    );
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `  - ${e.message.split('\n')[0]}`).join('\n');
    throw new HotpathError(ErrorCode.InvalidConfig, `cluster config ${file} is not valid YAML:\n${lines}`);
  }
  return { config: parseClusterConfig(doc.toJS(), file, dirname(file)), source: file };
}

/** Looks a model up by name. */
export function findModel(config: ClusterConfig, name: string): ModelConfig | undefined {
  return config.models.find((m) => m.name === name);
}
