import type { ReplicaStats } from '@hotpath/model-runtime';
import type { HotpathMetrics } from '@hotpath/telemetry';

/**
 * Turns what a model's replica threads report about their memory (`ReplicaPool`'s `onStats`) into
 * the worker's series: gauges per replica (`hotpath_kv_arena_slots`, `_slots_used`, `_bytes`,
 * `hotpath_prefix_cache_blocks`, `_bytes`) and counters per model (`hotpath_kv_arena_relayouts_total`,
 * `hotpath_prefix_cache_evictions_total`), the latter advanced by each replica's increase since its
 * previous report (replicas count from their start).
 */
export class ReplicaStatsGauges {
  private readonly last = new Map<number, { relayouts: number; evictions: number }>();

  constructor(
    private readonly metrics: HotpathMetrics,
    private readonly model: string,
  ) {}

  /** Records one report of replica `replica` (bound: passed to the pool as a callback). */
  readonly update = (replica: number, stats: ReplicaStats): void => {
    const m = this.metrics;
    const labels = { model: this.model, replica: String(replica) };
    const prev = this.last.get(replica) ?? { relayouts: 0, evictions: 0 };
    const next = { ...prev };
    if (stats.arena) {
      m.kvArenaSlots.set(labels, stats.arena.slots);
      m.kvArenaSlotsUsed.set(labels, stats.arena.slotsUsed);
      m.kvArenaBytes.set(labels, stats.arena.bytes);
      next.relayouts = stats.arena.relayouts;
      if (next.relayouts > prev.relayouts)
        m.kvArenaRelayouts.inc({ model: this.model }, next.relayouts - prev.relayouts);
    }
    if (stats.prefixCache) {
      m.prefixCacheBlocks.set(labels, stats.prefixCache.blocks);
      m.prefixCacheBytes.set(labels, stats.prefixCache.bytes);
      next.evictions = stats.prefixCache.evictions;
      if (next.evictions > prev.evictions)
        m.prefixCacheEvictions.inc({ model: this.model }, next.evictions - prev.evictions);
    }
    this.last.set(replica, next);
  };

  /** Drops the per-replica series of the model (its replicas are gone). */
  clear(): void {
    for (const replica of this.last.keys()) {
      const labels = { model: this.model, replica: String(replica) };
      for (const g of [
        this.metrics.kvArenaSlots,
        this.metrics.kvArenaSlotsUsed,
        this.metrics.kvArenaBytes,
        this.metrics.prefixCacheBlocks,
        this.metrics.prefixCacheBytes,
      ])
        g.remove(labels);
    }
    this.last.clear();
  }
}
