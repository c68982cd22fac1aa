import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '@hotpath/queue';

/**
 * Sends one PING through `url` without retrying. Resolves to `undefined` on `PONG`, otherwise to a
 * short reason (refused, auth error, bad URL). Never throws, never leaves a connection open.
 */
export async function pingRedis(url: string, timeoutMs = 1500): Promise<string | undefined> {
  let client: Redis;
  try {
    client = new Redis({
      ...redisOptionsFromUrl(url),
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
  } catch (err) {
    return (err as Error).message;
  }
  // The socket error (ECONNREFUSED, ...) arrives as an event; connect() itself only says "closed".
  let socketError: string | undefined;
  client.on('error', (err: Error) => {
    socketError ??= err.message;
  });
  try {
    await client.connect();
    const reply = await client.ping();
    return reply === 'PONG' ? undefined : `unexpected reply ${reply}`;
  } catch (err) {
    return socketError ?? ((err as Error).message || String(err));
  } finally {
    client.disconnect();
  }
}
