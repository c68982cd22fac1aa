import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '@hotpath/queue';
import { REDIS_PING_TIMEOUT_MS } from './timeouts';

/** The default local Redis looked for before starting one (`hotpath up`, the benches). */
export const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Sends one PING through `url` (password, TLS and database from the URL) without retrying.
 * Resolves to `undefined` on `PONG`, otherwise to a short reason (refused, auth error, a server
 * still loading its AOF, bad URL, no answer within `timeoutMs`). Never throws, never leaves a
 * connection open.
 */
export async function pingRedis(url: string, timeoutMs = REDIS_PING_TIMEOUT_MS): Promise<string | undefined> {
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
  // connect() waits for the ready check, which a server loading its AOF keeps answering LOADING:
  // the whole exchange is bounded, not only the socket connect.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  const ping = async (): Promise<string | undefined> => {
    await client.connect();
    const reply = await client.ping();
    return reply === 'PONG' ? undefined : `unexpected reply ${reply}`;
  };
  try {
    return await Promise.race([ping(), late]);
  } catch (err) {
    return socketError ?? ((err as Error).message || String(err));
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
