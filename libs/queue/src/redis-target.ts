import { ErrorCode, HotpathError } from '@hotpath/contracts';

/** How the processes reach Redis (`REDIS_MODE`). */
export type RedisMode = 'standalone' | 'cluster' | 'sentinel';
export const REDIS_MODES: readonly RedisMode[] = ['standalone', 'cluster', 'sentinel'];

/** A `host:port` pair (Redis Cluster seeds, Sentinels). */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where Redis is and how durable an acknowledged write must be, parsed once from the environment:
 * - `standalone`: `url` is the one server.
 * - `cluster`: `seeds` are one or more nodes of a Redis Cluster (the client discovers the rest);
 *   `url` still carries the credentials and TLS every node shares.
 * - `sentinel`: the primary named `sentinelName` is asked from `sentinels`; `url` carries the
 *   primary's credentials, database and TLS (its host is not used).
 */
export interface RedisTarget {
  mode: RedisMode;
  /** The first (or only) URL of `REDIS_URL`: credentials, database, TLS. */
  url: string;
  seeds: HostPort[];
  sentinels: HostPort[];
  sentinelName: string;
  /** `HOTPATH_REDIS_WAIT_REPLICAS`: replicas that must hold a write before it is acknowledged. */
  waitReplicas: number;
  /** How long one `WAIT` may take before the write counts as not durable. */
  waitTimeoutMs: number;
}

/** The raw settings a {@link RedisTarget} is parsed from (validated types, unchecked combinations). */
export interface RedisTargetInput {
  url: string;
  mode?: RedisMode;
  sentinels?: string;
  sentinelName?: string;
  waitReplicas?: number;
  waitTimeoutMs?: number;
}

function invalid(message: string): HotpathError {
  return new HotpathError(ErrorCode.InvalidConfig, message);
}

/** Parses `host:port,host:port` (IPv6 in brackets); `what` names the variable in errors. */
export function parseHostPorts(value: string, what: string): HostPort[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw invalid(`${what}: expected host:port[,host:port...], got nothing`);
  return list.map((item) => {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(item);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65_535)
      throw invalid(`${what}: "${item.slice(0, 100)}" is not host:port (port 1-65535)`);
    return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
  });
}

function urlHostPort(url: string, what: string): HostPort {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(`${what}: "${url.slice(0, 100)}" is not a URL`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw invalid(`${what}: "${url.slice(0, 100)}" must start with redis:// or rediss://`);
  return { host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: u.port ? Number(u.port) : 6379 };
}

/**
 * Checks the combination of Redis settings and builds the target. `REDIS_URL` may list several
 * comma-separated URLs only in `cluster` mode (the seeds); `sentinel` mode needs both
 * `REDIS_SENTINELS` and `REDIS_SENTINEL_NAME`, which the other modes refuse.
 */
export function parseRedisTarget(input: RedisTargetInput): RedisTarget {
  const mode = input.mode ?? 'standalone';
  const urls = input.url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (urls.length === 0) throw invalid('REDIS_URL: empty');
  const seeds = urls.map((u) => urlHostPort(u, 'REDIS_URL'));
  if (mode !== 'cluster' && urls.length > 1)
    throw invalid(`REDIS_URL: several URLs are only allowed with REDIS_MODE=cluster (mode is ${mode})`);
  const hasSentinelSettings = input.sentinels !== undefined || input.sentinelName !== undefined;
  if (mode !== 'sentinel' && hasSentinelSettings)
    throw invalid(`REDIS_SENTINELS / REDIS_SENTINEL_NAME need REDIS_MODE=sentinel (mode is ${mode})`);
  if (mode === 'sentinel' && (!input.sentinels || !input.sentinelName))
    throw invalid('REDIS_MODE=sentinel needs REDIS_SENTINELS (host:port,...) and REDIS_SENTINEL_NAME');
  if (mode === 'cluster' && new URL(urls[0] ?? '').pathname.length > 1)
    throw invalid('REDIS_URL: Redis Cluster has only database 0; drop the /<db> path');
  return {
    mode,
    url: urls[0] ?? '',
    seeds,
    sentinels: input.sentinels ? parseHostPorts(input.sentinels, 'REDIS_SENTINELS') : [],
    sentinelName: input.sentinelName ?? '',
    waitReplicas: input.waitReplicas ?? 0,
    waitTimeoutMs: input.waitTimeoutMs ?? 1000,
  };
}

/** A standalone target for a single URL (tests, tools, the CLI's private Redis). */
export function standaloneTarget(url: string): RedisTarget {
  return parseRedisTarget({ url });
}

/** The Redis variables of the API's and the worker's environment, already type-checked. */
export interface RedisEnv {
  REDIS_URL: string;
  REDIS_MODE: RedisMode;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  HOTPATH_REDIS_WAIT_REPLICAS: number;
  HOTPATH_REDIS_WAIT_TIMEOUT_MS: number;
}

/** {@link parseRedisTarget} of a parsed environment. */
export function redisTargetFromEnv(e: RedisEnv): RedisTarget {
  return parseRedisTarget({
    url: e.REDIS_URL,
    mode: e.REDIS_MODE,
    ...(e.REDIS_SENTINELS !== undefined ? { sentinels: e.REDIS_SENTINELS } : {}),
    ...(e.REDIS_SENTINEL_NAME !== undefined ? { sentinelName: e.REDIS_SENTINEL_NAME } : {}),
    waitReplicas: e.HOTPATH_REDIS_WAIT_REPLICAS,
    waitTimeoutMs: e.HOTPATH_REDIS_WAIT_TIMEOUT_MS,
  });
}

/** The {@link Durability} a target asks for, or `undefined` when writes need no replica. */
export function durabilityOf(t: RedisTarget): { replicas: number; timeoutMs: number } | undefined {
  return t.waitReplicas > 0 ? { replicas: t.waitReplicas, timeoutMs: t.waitTimeoutMs } : undefined;
}
