/** The Prometheus text exposition a process serves at `${base}/metrics`. */
export async function scrapeMetrics(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
  return await res.text();
}

/**
 * Reads one sample of a Prometheus text exposition: the value of `name` whose labels include every
 * pair in `labels`, summed over matching series; 0 when there is none.
 */
export function promValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labelText = '';
    let valueText: string;
    if (rest.startsWith('{')) {
      const close = rest.indexOf('}');
      if (close < 0) continue;
      labelText = rest.slice(1, close);
      valueText = rest.slice(close + 1);
    } else if (rest.startsWith(' ')) {
      valueText = rest;
    } else {
      continue; // a longer metric name with this prefix
    }
    const have = new Map<string, string>();
    for (const m of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (m[1] !== undefined) have.set(m[1], m[2] ?? '');
    }
    if (!Object.entries(labels).every(([k, v]) => have.get(k) === v)) continue;
    const value = Number(valueText.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) total += value;
  }
  return total;
}
