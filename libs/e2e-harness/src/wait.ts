import { setTimeout as delay } from 'node:timers/promises';

/** Thrown from a {@link waitFor} check to stop waiting at once (e.g. the process under test died). */
export class WaitAborted extends Error {}

/** Options for {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between two checks. */
  intervalMs?: number;
  /** Named in the timeout error, so a failure says what never happened. */
  what: string;
}

/**
 * Polls `check` until it returns a value other than `undefined`/`false`, and returns that value.
 * Errors thrown by `check` count as "not yet" (a process that is still starting refuses connections);
 * the last one is quoted when the wait times out. A {@link WaitAborted} ends the wait immediately.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 50;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      lastError = undefined;
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${why}`);
    }
    await delay(interval);
  }
}

/** A plain pause, for the few places where elapsed time itself is the condition (deadlines). */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}
