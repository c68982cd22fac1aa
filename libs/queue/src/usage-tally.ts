/** Counts per usage hash (one per tenant and minute) and field, waiting to be written. */
export type UsageBatch = Map<string, Map<string, number>>;

/**
 * Sums usage increments in memory, per Redis hash (`hp:usage:{tenant}:<minute>`, the minute of the
 * event, not of the write) and field, so that many jobs' counts reach Redis as one `HINCRBY` per
 * field and interval instead of one script call per job. Pure: the caller decides when to write.
 */
export class UsageTally {
  private pending: UsageBatch = new Map();

  get size(): number {
    return this.pending.size;
  }

  /** Adds `amount` to `field` of hash `key`; zero amounts are left out. */
  add(key: string, field: string, amount: number): void {
    if (!amount) return;
    let fields = this.pending.get(key);
    if (!fields) {
      fields = new Map();
      this.pending.set(key, fields);
    }
    fields.set(field, (fields.get(field) ?? 0) + amount);
  }

  /** Everything counted so far, leaving the tally empty. */
  take(): UsageBatch {
    const batch = this.pending;
    this.pending = new Map();
    return batch;
  }

  /** Puts back the hashes of a batch whose write failed (added to what was counted meanwhile). */
  restore(batch: UsageBatch, keep: (key: string) => boolean = () => true): void {
    for (const [key, fields] of batch) {
      if (!keep(key)) continue;
      for (const [field, n] of fields) this.add(key, field, n);
    }
  }
}
