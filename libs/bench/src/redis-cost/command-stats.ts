/** Calls per command, from one or more `INFO commandstats` replies. */
export type CommandCounts = Map<string, number>;

/**
 * Parses `INFO commandstats` (`cmdstat_<name>:calls=N,usec=...`), adding into `into` (so the
 * replies of several cluster masters sum up). Sub-commands keep their `|` (`client|id`). Commands
 * run by Lua scripts are counted by Redis under their own names, next to the `evalsha` itself.
 */
export function parseCommandStats(info: string, into: CommandCounts = new Map()): CommandCounts {
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (!m) continue;
    const name = m[1] ?? '';
    into.set(name, (into.get(name) ?? 0) + Number(m[2]));
  }
  return into;
}

/** Total `usec` (Redis CPU time spent in commands) of `INFO commandstats` replies, summed. */
export function commandUsec(info: string): number {
  let usec = 0;
  for (const line of info.split('\n')) {
    const m = /^cmdstat_[^:]+:calls=\d+,usec=(\d+)/.exec(line.trim());
    if (m) usec += Number(m[1]);
  }
  return usec;
}

/** `after - before` per command (commands that did not move are left out). */
export function diffCounts(before: CommandCounts, after: CommandCounts): CommandCounts {
  const out: CommandCounts = new Map();
  for (const [name, n] of after) {
    const d = n - (before.get(name) ?? 0);
    if (d > 0) out.set(name, d);
  }
  return out;
}

/** The sum of all counts. */
export function totalCount(c: CommandCounts): number {
  let n = 0;
  for (const v of c.values()) n += v;
  return n;
}
