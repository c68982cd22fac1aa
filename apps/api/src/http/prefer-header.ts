/**
 * Reads the `wait` preference of an RFC 7240 `Prefer` header (`Prefer: wait=10`, possibly among
 * other preferences: `respond-async, wait=5`). Returns whole seconds, or `undefined` when absent or
 * malformed: a preference is a hint, so a bad one is ignored rather than refused.
 */
export function parsePreferWait(header: string | string[] | undefined): number | undefined {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const value of values) {
    for (const pref of value.split(',')) {
      const [token = ''] = pref.split(';');
      const eq = token.indexOf('=');
      if (eq < 0) continue;
      const name = token.slice(0, eq).trim().toLowerCase();
      if (name !== 'wait') continue;
      const raw = token
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (!/^\d{1,9}$/.test(raw)) return undefined;
      return Number(raw);
    }
  }
  return undefined;
}

/**
 * Validates the `?wait=N` query of `GET /v1/jobs/{id}`: non-negative seconds (decimals allowed).
 * `undefined` when absent; `null` when present but invalid (the caller answers 400).
 */
export function parseWaitQuery(value: unknown): number | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}(\.\d{1,3})?$/.test(value)) return null;
  return Number(value);
}

/** Clamps a requested wait to the configured maximum (`api.max_wait_s`). */
export function clampWait(seconds: number, maxS: number): number {
  return Math.max(0, Math.min(seconds, maxS));
}
