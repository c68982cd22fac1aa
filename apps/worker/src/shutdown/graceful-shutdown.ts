import type { Logger } from '@hotpath/telemetry';
import { settlesWithin } from '../startup/settles-within';

/** How long handed-back jobs get to settle after their abort before connections are closed anyway. */
const HAND_BACK_TIMEOUT_MS = 10_000;

/** The parts of a running worker a graceful shutdown stops, in the order it stops them. */
export interface ShutdownParts {
  /** Leaves the worker registry, so the API stops routing here before the worker stops taking. */
  leave(): Promise<void>;
  /** Periodic work that must not start anything new (depth polling, sweeping, work stealing). */
  stopBackground(): Promise<void>;
  /** Stops fetching jobs at once; resolves once the running ones have settled. */
  stopTaking(): Promise<void>;
  /** The running jobs: counted for the logs, aborted and handed back when the grace period is over. */
  runner: { readonly activeCount: number; handBackAll(): void };
  /** Closes everything else (consumers, backends, connections, the metrics server). */
  release(): Promise<void>;
  logger: Logger;
}

/**
 * Stops a worker without losing a job: it stops taking jobs at once and lets running ones finish
 * for `graceMs`; whatever still runs then is aborted and handed back to its queue (without
 * consuming an attempt, docs/architecture.md#hand-back-on-shutdown) before the connections close.
 */
export async function shutDownGracefully(parts: ShutdownParts, graceMs: number): Promise<void> {
  const { runner, logger } = parts;
  await parts.leave();
  await parts.stopBackground();
  const settled = parts.stopTaking();
  logger.info('shutting down', { running_jobs: runner.activeCount, grace_ms: graceMs });
  if (!(await settlesWithin(settled, graceMs))) {
    logger.warn('grace period over; handing running jobs back', { running_jobs: runner.activeCount });
    runner.handBackAll();
    if (!(await settlesWithin(settled, HAND_BACK_TIMEOUT_MS))) {
      logger.error('jobs did not settle after their abort; their locks will expire and they will rerun', {
        running_jobs: runner.activeCount,
      });
    }
  }
  await parts.release();
  logger.info('worker stopped');
}
