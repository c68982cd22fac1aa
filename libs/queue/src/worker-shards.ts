/** Which shards of which models one worker serves; `all` for every shard of the model. */
export type ShardSelection = ReadonlyMap<string, ReadonlySet<number> | 'all'>;

/** Thrown for a malformed `WORKER_SHARDS`; the message names the bad entry. */
export class WorkerShardsError extends Error {}

/**
 * Parses `WORKER_SHARDS` (docs/configuration.md): comma-separated `model:spec` entries where spec is `*`, a shard
 * number, a range `a-b`, or several joined with `+` (`tiny:0-1+4,tiny-embed:*`). Empty or `*` = all models.
 */
export function parseWorkerShards(value: string | undefined): ShardSelection | 'all' {
  const text = (value ?? '').trim();
  if (text === '' || text === '*' || text === 'all') return 'all';
  const out = new Map<string, Set<number> | 'all'>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const colon = entry.lastIndexOf(':');
    const model = colon > 0 ? entry.slice(0, colon) : entry;
    const spec = colon > 0 ? entry.slice(colon + 1) : '*';
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(model))
      throw new WorkerShardsError(`WORKER_SHARDS: bad model name in "${entry}"`);
    if (spec === '*') {
      out.set(model, 'all');
      continue;
    }
    const prev = out.get(model);
    if (prev === 'all') continue;
    const set = prev ?? new Set<number>();
    for (const part of spec.split('+')) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
      if (!m?.[1])
        throw new WorkerShardsError(
          `WORKER_SHARDS: bad shard spec "${part}" in "${entry}" (use N, A-B or *)`,
        );
      const a = Number(m[1]);
      const b = m[2] !== undefined ? Number(m[2]) : a;
      if (b < a) throw new WorkerShardsError(`WORKER_SHARDS: empty range "${part}" in "${entry}"`);
      for (let s = a; s <= b; s++) set.add(s);
    }
    out.set(model, set);
  }
  return out;
}

/** The concrete shard numbers a worker serves for a model with `shards` shards. */
export function shardsServed(selection: ShardSelection | 'all', model: string, shards: number): number[] {
  const all = Array.from({ length: shards }, (_, i) => i);
  if (selection === 'all') return all;
  const sel = selection.get(model);
  if (sel === undefined) return [];
  if (sel === 'all') return all;
  return all.filter((s) => sel.has(s));
}
