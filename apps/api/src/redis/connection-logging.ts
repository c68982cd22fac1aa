import type { RedisClient } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';

/**
 * Logs a connection's outages once each (ioredis emits an `error` per reconnect attempt) and its
 * recovery. Having an `error` listener at all is what keeps an outage from crashing the process.
 */
export function attachConnectionLogging(conn: RedisClient, role: string, logger: Logger): void {
  let down = false;
  conn.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.warn('redis connection error; reconnecting', { role, err });
  });
  conn.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('redis connection restored', { role });
  });
}
