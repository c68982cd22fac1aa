/** Limits for restarting a child that died on its own. */
export interface RestartLimits {
  /** Restarts allowed inside {@link RestartLimits.windowMs}; one more means give up. */
  maxRestarts: number;
  windowMs: number;
  /** First delay; it doubles with every restart still inside the window, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_LIMITS: RestartLimits = {
  maxRestarts: 3,
  windowMs: 60_000,
  baseDelayMs: 1000,
  maxDelayMs: 8000,
};

/** What to do about a crash: restart after `delayMs`, or give up. */
export type RestartDecision =
  { restart: true; delayMs: number; attempt: number } | { restart: false; reason: string };

/**
 * Crash-loop guard: a child that dies is restarted with exponential backoff, but more than
 * `maxRestarts` crashes within `windowMs` means something is wrong that a restart will not fix, and
 * `hotpath up` stops the whole cluster instead. Pure: the caller passes the clock.
 */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(private readonly limits: RestartLimits = DEFAULT_RESTART_LIMITS) {}

  /** Records a crash at `now` (ms) and decides. */
  onCrash(now: number): RestartDecision {
    this.crashes = this.crashes.filter((t) => now - t < this.limits.windowMs);
    this.crashes.push(now);
    const attempt = this.crashes.length;
    if (attempt > this.limits.maxRestarts) {
      return {
        restart: false,
        reason: `crashed ${attempt} times within ${Math.round(this.limits.windowMs / 1000)} s`,
      };
    }
    const delayMs = Math.min(this.limits.baseDelayMs * 2 ** (attempt - 1), this.limits.maxDelayMs);
    return { restart: true, delayMs, attempt };
  }
}
