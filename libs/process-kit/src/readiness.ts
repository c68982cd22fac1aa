const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Options for {@link waitForReady}. */
export interface ReadyWait {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked between probes: a reason here (e.g. "exited with code 1") stops the wait at once. */
  abortReason?: () => string | undefined;
}

/** Why a readiness wait ended without a 200. */
export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
  constructor(
    message: string,
    /** The child went away (as opposed to a timeout). */
    readonly aborted: boolean,
  ) {
    super(message);
  }
}

/**
 * Polls `url` until it answers 200, within `timeoutMs`. Each probe has its own short timeout so a
 * hung server cannot stall the loop. Throws {@link NotReadyError} with the last status or error seen.
 */
export async function waitForReady(url: string, opts: ReadyWait): Promise<void> {
  const until = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 150;
  let last = 'no answer yet';
  for (;;) {
    const reason = opts.abortReason?.();
    if (reason !== undefined) throw new NotReadyError(reason, true);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      last = cause?.code ?? (err as Error).message;
    }
    if (Date.now() >= until) {
      throw new NotReadyError(
        `${url} not ready after ${Math.round(opts.timeoutMs / 1000)} s (last: ${last})`,
        false,
      );
    }
    await sleep(interval);
  }
}
