/** How {@link retryOnPortClash} tells a port clash from any other failure, and how often it tries. */
export interface PortClashRetry {
  /** Default: the error's message mentions EADDRINUSE (a child's last log lines usually carry it). */
  isClash?: (err: unknown) => boolean;
  /** Attempts in all, the first included. Default 3. */
  tries?: number;
}

const mentionsAddrInUse = (err: unknown): boolean =>
  err instanceof Error && err.message.includes('EADDRINUSE');

/**
 * Runs `start` (which picks fresh ports with `freePort` each time) again when it failed because a
 * port was taken between picking and binding; any other failure, or the last clash, is thrown.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, opts: PortClashRetry = {}): Promise<T> {
  const isClash = opts.isClash ?? mentionsAddrInUse;
  const tries = opts.tries ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= tries || !isClash(err)) throw err;
    }
  }
}
