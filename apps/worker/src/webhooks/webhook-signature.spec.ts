import { strict as assert } from 'node:assert';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, it } from 'node:test';
import { signWebhook, signingKey, webhookHeaders } from './webhook-signature';
import { webhookBackoffMs } from './webhook-settings';

/**
 * What a receiver checks (docs/webhooks.md): true when one of the space-separated signatures
 * in `header` matches and the timestamp is within `toleranceS` of `nowS`.
 */
function verifyWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  nowS: number,
  toleranceS = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, headers.id, ts, body).slice(3), 'base64');
  return headers.signature.split(' ').some((sig) => {
    const [version, value] = sig.split(',', 2);
    if (version !== 'v1' || value === undefined) return false;
    const got = Buffer.from(value, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

describe('webhook signatures (Standard Webhooks v1)', () => {
  const secret = 'my-secret-0123456789';
  const body = '{"id":"j1","status":"completed"}';

  it('signs "<id>.<timestamp>.<body>" with HMAC-SHA256, base64, prefixed v1,', () => {
    const expected = createHmac('sha256', secret).update(`msg_j1.1700000000.${body}`).digest('base64');
    assert.equal(signWebhook(secret, 'msg_j1', 1700000000, body), `v1,${expected}`);
  });

  it('uses the decoded bytes of whsec_ secrets, as Standard Webhooks libraries do', () => {
    const raw = Buffer.from('0123456789abcdef0123456789abcdef');
    const whsec = `whsec_${raw.toString('base64')}`;
    assert.deepEqual(signingKey(whsec), raw);
    const expected = createHmac('sha256', raw).update(`m.1.${body}`).digest('base64');
    assert.equal(signWebhook(whsec, 'm', 1, body), `v1,${expected}`);
  });

  it('verifies its own headers and rejects tampering, wrong secrets and stale timestamps', () => {
    const now = 1_700_000_000;
    const h = webhookHeaders(secret, 'msg_j1', now, body);
    assert.equal(h['webhook-id'], 'msg_j1');
    assert.equal(h['webhook-timestamp'], String(now));
    const headers = {
      id: h['webhook-id'] ?? '',
      timestamp: h['webhook-timestamp'] ?? '',
      signature: h['webhook-signature'] ?? '',
    };
    assert.equal(verifyWebhook(secret, headers, body, now), true);
    assert.equal(
      verifyWebhook(secret, { ...headers, signature: `v1,bogus ${headers.signature}` }, body, now),
      true,
    );
    assert.equal(verifyWebhook(secret, headers, body.replace('completed', 'failed'), now), false);
    assert.equal(verifyWebhook('other-secret-123456', headers, body, now), false);
    assert.equal(verifyWebhook(secret, { ...headers, id: 'msg_j2' }, body, now), false);
    assert.equal(verifyWebhook(secret, headers, body, now + 301), false);
    assert.equal(
      verifyWebhook(secret, { ...headers, signature: headers.signature.replace('v1,', 'v2,') }, body, now),
      false,
    );
  });
});

describe('webhookBackoffMs', () => {
  it('doubles from the base per retry, capped', () => {
    const s = { backoffMs: 100, maxBackoffMs: 1000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => webhookBackoffMs(n, s)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(webhookBackoffMs(0, s), 100);
  });
});
