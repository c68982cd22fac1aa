import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import {
  ClusterConfigSchema,
  deprecatedBatchingKeys,
  ErrorCode,
  HotpathError,
  formatIssues,
  type ClusterConfig,
  type ModelConfig,
  VARIANT_SEPARATOR,
} from '@hotpath/contracts';
import { DEFAULT_CLUSTER_CONFIG } from './default-cluster-config';

/** A loaded cluster config and where it came from (for logs and for resolving model paths). */
export interface LoadedClusterConfig {
  config: ClusterConfig;
  /** The file it was read from, or `built-in`. */
  source: string;
}

/** Receives one line per deprecated key a config uses (each key once, whatever the number of models). */
export type DeprecationSink = (message: string) => void;

/**
 * Validates a cluster config object. Every problem is listed at once, each with its field path,
 * so an operator fixes the file in one go. Relative model paths resolve against `baseDir`.
 * Deprecated keys still work (the schema maps them); `onDeprecated` hears about each one once.
 */
export function parseClusterConfig(
  raw: unknown,
  source: string,
  baseDir: string,
  onDeprecated?: DeprecationSink,
): ClusterConfig {
  if (onDeprecated)
    for (const d of deprecatedBatchingKeys(raw))
      onDeprecated(
        `cluster config ${source}: batching.${d.key} is deprecated; use ${d.replacement.map((r) => `batching.${r}`).join(' and ')} (models: ${d.models.join(', ')})`,
      );
  const parsed = ClusterConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new HotpathError(
      ErrorCode.InvalidConfig,
      `invalid cluster config ${source}:\n${formatIssues(parsed.error)}`,
    );
  }
  const models: ModelConfig[] = parsed.data.models
    .flatMap((m) => [m, ...expandVariants(m)])
    .map((m) => (m.path && !isAbsolute(m.path) ? { ...m, path: resolve(baseDir, m.path) } : m));
  return { ...parsed.data, models };
}

/**
 * The served entries of a model's `variants`: each is the parent with the variant's fields over it,
 * named `<model>@<variant>`, so it gets its own queues, replicas, metrics label and cache namespace
 * (result-cache keys carry the served model and its folder digest).
 */
export function expandVariants(m: ModelConfig): ModelConfig[] {
  return m.variants.map((v) => {
    const own = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined));
    // A variant with its own folder does not inherit the parent's graph selection.
    const graph = v.path !== undefined ? { dtype: v.dtype, onnx_file: v.onnx_file, forge: v.forge } : {};
    return {
      ...m,
      ...graph,
      ...own,
      name: `${m.name}${VARIANT_SEPARATOR}${v.name}`,
      variant: v.name,
      variants: [],
      default_variant: undefined,
      variant_of: m.name,
    };
  });
}

/**
 * Reads `HOTPATH_CONFIG` (YAML or JSON), or returns the built-in default when `path` is undefined.
 * Built-in relative model paths resolve against `defaultBaseDir` (the `.hotpath/` data folder).
 */
export function loadClusterConfig(
  path: string | undefined,
  defaultBaseDir = process.cwd(),
  onDeprecated?: DeprecationSink,
): LoadedClusterConfig {
  if (!path) {
    return {
      config: parseClusterConfig(DEFAULT_CLUSTER_CONFIG, 'built-in', defaultBaseDir, onDeprecated),
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
  return { config: parseClusterConfig(doc.toJS(), file, dirname(file), onDeprecated), source: file };
}

/**
 * Looks up the served model for a request's `model` (and optional `variant`): `small` is the
 * model's default variant, `small@int8` or `small` with `variant: int8` a named one, and the
 * parent's own variant name (`base` by default) names the parent entry.
 */
export function findModel(config: ClusterConfig, name: string, variant?: string): ModelConfig | undefined {
  const at = name.indexOf(VARIANT_SEPARATOR);
  if (at >= 0) {
    if (variant !== undefined && variant !== name.slice(at + 1)) return undefined;
    return findModel(config, name.slice(0, at), name.slice(at + 1));
  }
  const parent = config.models.find((m) => m.name === name && m.variant_of === undefined);
  if (!parent) return undefined;
  const wanted = variant ?? parent.default_variant ?? parent.variant;
  if (wanted === parent.variant) return parent;
  return config.models.find((m) => m.variant_of === name && m.variant === wanted);
}

/** The variant names a model offers (its own first), for error messages and listings. */
export function variantNames(config: ClusterConfig, m: ModelConfig): string {
  const parent = m.variant_of ?? m.name;
  return config.models
    .filter((x) => x.name === parent || x.variant_of === parent)
    .map((x) => x.variant)
    .join(', ');
}
