import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyEntry } from './api-keys';

interface HashedKey {
  tenant: string;
  digest: Buffer;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Resolves bearer keys to tenants. Keys are kept only as SHA-256 digests and compared with
 * `timingSafeEqual` against every configured key (no early exit), so neither the match position
 * nor the key length shows in the response time.
 */
export class ApiKeyRegistry {
  private readonly keys: readonly HashedKey[];

  constructor(entries: readonly ApiKeyEntry[]) {
    this.keys = entries.map((e) => ({ tenant: e.tenant, digest: sha256(e.key) }));
  }

  /** With no keys configured the API runs in open dev mode (every request is tenant `default`). */
  get openMode(): boolean {
    return this.keys.length === 0;
  }

  /** Distinct tenants, for the start-up log line. */
  get tenants(): string[] {
    return [...new Set(this.keys.map((k) => k.tenant))];
  }

  /** The tenant owning `key`, or `undefined`. */
  lookup(key: string): string | undefined {
    const digest = sha256(key);
    let found: string | undefined;
    for (const k of this.keys) {
      if (timingSafeEqual(k.digest, digest) && found === undefined) found = k.tenant;
    }
    return found;
  }
}

/** Extracts the key from `Authorization: Bearer <key>`; `undefined` for any other shape. */
export function bearerKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/**
 * The key of `Authorization: Basic base64(user:key)` (the user name is ignored): what a browser
 * sends for the admin pages after its login prompt.
 */
export function basicKey(header: string | undefined): string | undefined {
  const m = header ? /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header) : null;
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const key = colon >= 0 ? decoded.slice(colon + 1) : '';
  return key === '' ? undefined : key;
}
