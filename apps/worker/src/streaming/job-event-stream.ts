import { JobEventPublisher, type RedisClient } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';

/**
 * The writer of each job's event stream (`status`, `token`, `done`, `error`), which SSE clients
 * and OpenAI streams read through the API; writes are spaced `flushMs` apart (`queue.event_flush_ms`),
 * further under load up to `flushMaxMs` (`queue.event_flush_max_ms`).
 * `connection` should be one of its own (see
 * `WorkerConnections.events`).
 */
export function createJobEventStream(
  connection: RedisClient,
  ttlS: number,
  flush: { flushMs: number; flushMaxMs: number },
  logger: Logger,
): JobEventPublisher {
  let lastError = 0;
  return new JobEventPublisher(connection, {
    ttlS,
    ...flush,
    onError: (err) => {
      // One line per burst: an outage would otherwise log once per token.
      if (Date.now() - lastError < 10_000) return;
      lastError = Date.now();
      logger.warn('job event stream write failed', { error: err });
    },
  });
}
