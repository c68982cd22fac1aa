import { ErrorCode, HotpathError } from '@hotpath/contracts';

/** Lower-cased host without IPv6 brackets or a trailing dot, as patterns and URLs are compared. */
export function normalizeHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

/** Whether `host` matches one of `patterns`: `*` (any), `*.domain` (strict subdomains) or an exact host. */
export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  const h = normalizeHost(host);
  return patterns.some((raw) => {
    const p = raw.trim().toLowerCase();
    if (p === '*') return true;
    if (p.startsWith('*.')) {
      const domain = normalizeHost(p.slice(2));
      return h.endsWith(`.${domain}`);
    }
    return h === normalizeHost(p);
  });
}

/**
 * Which webhook targets a job may name, checked at submission (and again at replay): `http:` or
 * `https:` only, no credentials in the URL, and a host on the allow-list
 * (`HOTPATH_WEBHOOK_ALLOWED_HOSTS`). Without a list, open dev mode allows any host and a keyed
 * deployment allows none, so a production API never posts to arbitrary (internal) hosts by default.
 */
export class WebhookTargetPolicy {
  constructor(
    private readonly allowedHosts: readonly string[] | undefined,
    private readonly openMode: boolean,
  ) {}

  /** Throws a 400 `invalid_request` naming `param` when `url` may not be a webhook target. */
  check(url: string, param = 'webhook.url'): void {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new HotpathError(ErrorCode.InvalidRequest, 'webhook.url is not a valid URL', param);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new HotpathError(ErrorCode.InvalidRequest, 'webhook.url must use http or https', param);
    }
    if (u.username !== '' || u.password !== '') {
      throw new HotpathError(
        ErrorCode.InvalidRequest,
        'webhook.url must not carry credentials; authenticate with the signature instead',
        param,
      );
    }
    if (this.allowedHosts === undefined) {
      if (this.openMode) return;
      throw new HotpathError(
        ErrorCode.InvalidRequest,
        'webhooks are disabled on this server (HOTPATH_WEBHOOK_ALLOWED_HOSTS is not set)',
        param,
      );
    }
    if (!hostAllowed(u.hostname, this.allowedHosts)) {
      throw new HotpathError(
        ErrorCode.InvalidRequest,
        `webhook host "${normalizeHost(u.hostname).slice(0, 255)}" is not on the allow-list`,
        param,
      );
    }
  }
}
