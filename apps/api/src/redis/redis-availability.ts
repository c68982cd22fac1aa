import type { RedisClient } from '@hotpath/queue';
import { ErrorCode, HotpathError } from '@hotpath/contracts';

/** Seconds a client should wait before retrying while Redis is down. */
export const REDIS_RETRY_AFTER_S = 2;

export function redisUnavailable(detail = 'Redis is unavailable; retry later'): HotpathError {
  return new HotpathError(ErrorCode.RedisUnavailable, detail, undefined, REDIS_RETRY_AFTER_S);
}

/**
 * Throws `redis_unavailable` unless the fail-fast producer connection is up right now. Reading the
 * live status on every request (never a cached flag) is what lets the API recover by itself as
 * soon as ioredis reconnects.
 */
export function assertRedisReady(conn: RedisClient): void {
  if (conn.status !== 'ready') throw redisUnavailable();
}

/**
 * Bounds a Redis/BullMQ call: BullMQ can wait for a connection to become ready instead of failing,
 * and an HTTP request must not hang on that.
 */
export async function withRedisTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(redisUnavailable('Redis did not answer in time; retry later')),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** PING with a short deadline, for readiness checks. Resolves to an error message, or `undefined` when healthy. */
export async function pingRedis(conn: RedisClient, timeoutMs: number): Promise<string | undefined> {
  if (conn.status !== 'ready') return `connection is ${conn.status}`;
  try {
    const pong = await withRedisTimeout(conn.ping(), timeoutMs);
    return pong === 'PONG' ? undefined : `unexpected PING reply`;
  } catch (err) {
    return (err as Error).message;
  }
}
