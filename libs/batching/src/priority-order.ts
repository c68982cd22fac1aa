import type { Priority } from '@hotpath/contracts';

/**
 * How long an item may wait before it counts as one priority class higher. With three classes a
 * steady stream of `high` work delays `low` work by about 2 × this at most.
 */
export const DEFAULT_AGING_MS = 1000;

const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/** What the priority order needs to know of a waiting item. */
export interface Ranked {
  /** 0 = high, 1 = normal, 2 = low. */
  rank: number;
  /** Submission order: ties go to the earlier item (FIFO within a class). */
  order: number;
  /** Epoch ms of submission (the clock the aging is measured on). */
  arrivedAt: number;
}

/** The rank of a priority (`normal` when none is given). */
export function priorityRank(priority: Priority | undefined): number {
  return RANK[priority ?? 'normal'];
}

/**
 * Sorts `items` in place best first: highest effective priority (every `agingMs` of waiting
 * promotes an item by one class, so low-priority work cannot starve), then submission order.
 * Both schedulers order their waiting items with this, so a priority means the same on each.
 */
export function sortByPriority<T extends Ranked>(items: T[], now: number, agingMs: number): void {
  const effective = (p: Ranked): number => p.rank - Math.floor((now - p.arrivedAt) / agingMs);
  items.sort((a, b) => effective(a) - effective(b) || a.order - b.order);
}
