/**
 * Recognises the errors ioredis and BullMQ raise when Redis cannot be reached, so the API answers
 * 503 (retry later) instead of 500. The list follows ioredis 5 and BullMQ 5 messages and names,
 * and what Redis Cluster and Sentinel answer while a failover is under way (a slot without a master,
 * a write reaching a replica, a primary being elected, a redirection to a slot's new owner), plus a
 * write that too few replicas acknowledged (`HOTPATH_REDIS_WAIT_REPLICAS`).
 */
const MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  'Command timed out',
  'Reached the max retries per request limit',
  'Redis not ready',
  'connect ECONNREFUSED',
  'read ECONNRESET',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'MASTERDOWN',
  'READONLY',
  'LOADING',
  'Failed to refresh slots cache',
  'Too many Cluster redirections',
  'None of startup nodes is available',
  'All sentinels are unreachable',
  "Cluster isn't ready",
];
/**
 * A cluster node's redirection that reached the caller: during a failover a command inside a
 * pipeline or transaction is answered `MOVED`/`ASK` by a node that no longer owns the slot, and
 * ioredis hands the reply back instead of following it (it does refresh its slot map meanwhile).
 * A retry a moment later goes to the new owner.
 */
const REDIRECTION = /^(MOVED|ASK) \d+ \S+:\d+$/;
const NAMES = new Set([
  'MaxRetriesPerRequestError',
  'ConnectionClosedError',
  'ReplicaAckError',
  'ClusterAllFailedError',
]);
const CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN', 'EHOSTUNREACH']);

export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (NAMES.has(err.name) || NAMES.has(err.constructor.name)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CODES.has(code)) return true;
  return MESSAGES.some((m) => err.message.includes(m)) || REDIRECTION.test(err.message);
}
