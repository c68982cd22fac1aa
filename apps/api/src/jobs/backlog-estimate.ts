/** Reads the backlog (waiting + prioritized jobs over all shards) of a model from Redis. */
export type BacklogReader = (model: string, shards: number) => Promise<number>;

interface Entry {
  /** Backlog at the last read. */
  value: number;
  /** When it was read (ms, the injected clock). */
  readAt: number;
  /** Jobs this API process accepted since that read. */
  acceptedSince: number;
  refreshing: Promise<number> | undefined;
}

/**
 * The backlog a submission is checked against (`max_waiting`), read from Redis at most once per
 * `maxAgeMs` per model and process instead of once per request. Between reads the jobs this
 * process accepted are added on top, so a burst through one API cannot overshoot; jobs the workers
 * took meanwhile are still counted, so the estimate errs towards answering 429 early, never late,
 * by at most `maxAgeMs` of worker progress. Concurrent checks share one read.
 *
 * While the estimate is below half the limit it is read only every `farMaxAgeMs`: it cannot turn a
 * job away from there before this process's own accepts have brought it to half the limit, where
 * the short age applies again; what it leaves out (other processes' jobs) only sizes this process's
 * admission leases, which the gate grants atomically.
 */
export class BacklogEstimate {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly read: BacklogReader,
    private readonly maxAgeMs = 20,
    private readonly now: () => number = Date.now,
    private readonly farMaxAgeMs = 1000,
  ) {}

  /** The estimate for `model`; `limit` (its max_waiting) lets a far-from-full estimate age longer. */
  async current(model: string, shards: number, limit = 0): Promise<number> {
    const e = this.entries.get(model);
    if (e) {
      const value = e.value + e.acceptedSince;
      const maxAge = value * 2 < limit ? this.farMaxAgeMs : this.maxAgeMs;
      if (this.now() - e.readAt < maxAge) return value;
    }
    const entry = e ?? { value: 0, readAt: -Infinity, acceptedSince: 0, refreshing: undefined };
    this.entries.set(model, entry);
    entry.refreshing ??= this.read(model, shards).then(
      (value) => {
        entry.value = value;
        entry.readAt = this.now();
        entry.acceptedSince = 0;
        entry.refreshing = undefined;
        return value;
      },
      (err: unknown) => {
        entry.refreshing = undefined;
        throw err;
      },
    );
    await entry.refreshing;
    return entry.value + entry.acceptedSince;
  }

  /** Counts a job accepted for `model` since the last read. */
  accepted(model: string): void {
    const e = this.entries.get(model);
    if (e) e.acceptedSince++;
  }
}
