import { ErrorCode, HotpathError } from '@hotpath/contracts';

/** One configured API key and the tenant it authenticates. */
export interface ApiKeyEntry {
  tenant: string;
  key: string;
}

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Parses `tenant:key` entries separated by commas (the `HOTPATH_API_KEYS` format). `where` names the
 * source in error messages (`HOTPATH_API_KEYS`, `HOTPATH_API_KEYS_FILE /etc/keys line 3`).
 * Messages name the entry by position and never echo the key itself.
 */
export function parseApiKeyList(text: string, where: string): ApiKeyEntry[] {
  const out: ApiKeyEntry[] = [];
  const parts = text.split(',');
  parts.forEach((raw, i) => {
    const entry = raw.trim();
    // A trailing comma is harmless; an empty entry in the middle is a typo worth reporting.
    if (entry === '' && (i === parts.length - 1 || parts.length === 1)) return;
    const at = `${where} entry ${i + 1}`;
    if (entry === '') throw invalid(`${at} is empty`);
    const colon = entry.indexOf(':');
    if (colon < 0) throw invalid(`${at} has no ":" (expected tenant:key)`);
    const tenant = entry.slice(0, colon).trim();
    const key = entry.slice(colon + 1).trim();
    if (tenant === '') throw invalid(`${at} has an empty tenant (expected tenant:key)`);
    if (!TENANT.test(tenant)) {
      throw invalid(
        `${at}: tenant "${tenant.slice(0, 64)}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    }
    if (key === '') throw invalid(`${at} (tenant "${tenant}") has an empty key`);
    if (/\s/.test(key)) throw invalid(`${at} (tenant "${tenant}"): the key contains whitespace`);
    out.push({ tenant, key });
  });
  return out;
}

/**
 * Parses the contents of `HOTPATH_API_KEYS_FILE`: one or more comma-separated `tenant:key` entries
 * per line; blank lines and lines starting with `#` are ignored.
 */
export function parseApiKeyFile(contents: string, path: string): ApiKeyEntry[] {
  const out: ApiKeyEntry[] = [];
  contents.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    out.push(...parseApiKeyList(trimmed, `HOTPATH_API_KEYS_FILE ${path} line ${i + 1}`));
  });
  return out;
}

/** Rejects one key shared by two tenants: a request with it could not be attributed. */
export function assertUniqueKeys(entries: readonly ApiKeyEntry[]): void {
  const owner = new Map<string, string>();
  for (const e of entries) {
    const prev = owner.get(e.key);
    if (prev !== undefined && prev !== e.tenant) {
      throw invalid(`the same API key is configured for tenants "${prev}" and "${e.tenant}"`);
    }
    owner.set(e.key, e.tenant);
  }
}

function invalid(message: string): HotpathError {
  return new HotpathError(ErrorCode.InvalidConfig, message);
}
