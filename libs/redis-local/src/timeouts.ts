/**
 * The one timeout policy for Redis servers this repository starts itself (`hotpath up`'s embedded
 * Redis, the benches' private Redis, the test suites' servers, local clusters and Sentinels).
 * Connections to any Redis are closed with `closeRedis` from `@hotpath/queue` (its
 * `REDIS_QUIT_TIMEOUT_MS`). docs/architecture.md#local-processes-and-redis lists them together.
 */

/** A freshly spawned `redis-server` must answer PING within this, else the start fails with its output. */
export const REDIS_START_TIMEOUT_MS = 10_000;

/** One PING (connect included): a Redis that takes longer counts as not answering. */
export const REDIS_PING_TIMEOUT_MS = 1_500;

/**
 * After SIGTERM (which Redis treats as SHUTDOWN: the AOF is fsync'd, then it exits) a server gets
 * this long to exit before SIGKILL.
 */
export const REDIS_STOP_TIMEOUT_MS = 10_000;
