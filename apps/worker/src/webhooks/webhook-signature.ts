import { createHmac } from 'node:crypto';

/** Standard Webhooks' prefix of base64-encoded secrets. */
const WHSEC_PREFIX = 'whsec_';

/**
 * The HMAC key of a webhook secret: a Standard Webhooks secret (`whsec_<base64>`) is its decoded
 * bytes, so receivers can use any Standard Webhooks library; any other secret is its UTF-8 bytes.
 */
export function signingKey(secret: string): Buffer {
  if (secret.startsWith(WHSEC_PREFIX)) return Buffer.from(secret.slice(WHSEC_PREFIX.length), 'base64');
  return Buffer.from(secret, 'utf8');
}

/**
 * `webhook-signature` value (Standard Webhooks, version 1): `v1,` + base64 HMAC-SHA256 over
 * `<webhook-id>.<webhook-timestamp>.<body>` with {@link signingKey}.
 */
export function signWebhook(secret: string, id: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', signingKey(secret))
    .update(`${id}.${timestampS}.${body}`, 'utf8')
    .digest('base64');
  return `v1,${mac}`;
}

/** The headers of one delivery attempt. */
export function webhookHeaders(
  secret: string,
  id: string,
  timestampS: number,
  body: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'hotpath-webhooks/1',
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': signWebhook(secret, id, timestampS, body),
  };
}
