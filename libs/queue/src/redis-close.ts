import type { RedisClient } from './redis-connection';

/**
 * How long a QUIT may take before the socket is simply closed. QUIT waits for the replies of
 * commands already sent; past this bound a shutdown must not hang on a Redis that stopped
 * answering (docs/architecture.md#local-processes-and-redis).
 */
export const REDIS_QUIT_TIMEOUT_MS = 2_000;

/**
 * Closes a connection politely (QUIT) when it is ready, at once otherwise, and never throws: the
 * one way the API and the worker let their Redis connections go at shutdown.
 */
export async function closeRedis(conn: RedisClient, timeoutMs = REDIS_QUIT_TIMEOUT_MS): Promise<void> {
  if (conn.status === 'end') return;
  if (conn.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    try {
      if ((await Promise.race([conn.quit(), late])) !== 'late') return;
    } catch {
      // Fall through: a quit that cannot be sent still needs the socket closed.
    } finally {
      clearTimeout(timer);
    }
  }
  conn.disconnect();
}
