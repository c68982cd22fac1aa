/** `GET` a Prometheus endpoint; throws unless it answers 200. */
export async function fetchMetrics(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} → ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** Metric family names declared in Prometheus text (`# TYPE <name> <kind>` lines). */
export function metricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) \S+$/gm)) {
    if (m[1]) names.add(m[1]);
  }
  return names;
}
