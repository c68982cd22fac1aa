/** Inserts into one index between two trims by one process (the most a process lets an index overshoot its cap). */
export const INDEX_TRIM_EVERY = 64;
/** The longest a process goes between trims of an index it inserts into (and between refreshes of its expiry). */
export const INDEX_TRIM_MAX_GAP_MS = 3_600_000;
/** Indexes a process remembers; beyond that it forgets them all (each is then trimmed at its next insert). */
const MAX_TRACKED = 10_000;

interface KeyState {
  inserts: number;
  trimmedAt: number;
}

/**
 * Decides which inserts into a bounded index (a sorted set capped by count and age) also trim it:
 * the first insert a process makes into an index, every {@link INDEX_TRIM_EVERY}-th after it, and
 * the first after {@link INDEX_TRIM_MAX_GAP_MS} without a trim. Trimming on every insert cost three
 * commands per insert for a set that only grows by one; amortised, an index exceeds its cap by at
 * most `INDEX_TRIM_EVERY - 1` entries per inserting process, and its expiry (refreshed with each trim,
 * set to the age limit plus the gap) never falls before the age limit of its newest entry.
 */
export class IndexTrimSchedule {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly every = INDEX_TRIM_EVERY,
    private readonly maxGapMs = INDEX_TRIM_MAX_GAP_MS,
  ) {}

  /** Counts one insert into `key` at `now` (ms); true when this insert also trims. */
  insert(key: string, now: number): boolean {
    let s = this.keys.get(key);
    if (!s) {
      if (this.keys.size >= MAX_TRACKED) this.keys.clear();
      s = { inserts: 0, trimmedAt: now };
      this.keys.set(key, s);
      return true;
    }
    s.inserts++;
    if (s.inserts >= this.every || now - s.trimmedAt >= this.maxGapMs) {
      s.inserts = 0;
      s.trimmedAt = now;
      return true;
    }
    return false;
  }
}
