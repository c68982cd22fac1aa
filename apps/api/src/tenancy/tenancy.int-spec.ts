import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { RateLimiter, UsageStore, createRedisConnection, waitForRedis } from '@hotpath/queue';
import {
  call,
  startTestApi,
  testConfig,
  uniqueModel,
  type Answer,
  type TestApi,
} from '../testing/api-harness';
import { cleanupRedis } from '../testing/redis-cleanup';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Two API processes' worth of apps on one Redis: every bucket and queue is shared. */
describe('tenant limits across two API instances (real Redis)', () => {
  const model = uniqueModel();
  const run = randomUUID().slice(0, 6);
  const t = {
    burst: `burst-${run}`,
    openai: `openai-${run}`,
    tokens: `tokens-${run}`,
    queued: `queued-${run}`,
    filler: `filler-${run}`,
  };
  const key = (tenant: string): string => `key-${tenant}`;
  let apis: TestApi[] = [];
  let conn: Redis;
  const ids = new Set<string>();

  before(async () => {
    const config = testConfig({
      redisUrl: REDIS_URL,
      // concurrency 8: a lookahead of 1, so a second waiting job stays in the fair queue.
      cluster: {
        models: [{ name: model, backend: 'sim', tasks: ['generate'], shards: 1, concurrency: 8 }],
        tenants: {
          overrides: {
            [t.burst]: { requests_per_s: 0.5, burst: 3 },
            [t.openai]: { requests_per_s: 0.01, burst: 1 },
            [t.tokens]: { tokens_per_min: 100 },
            [t.queued]: { max_queued: 2 },
          },
        },
      },
      keys: Object.values(t).map((tenant) => ({ tenant, key: key(tenant) })),
    });
    apis = [await startTestApi(config), await startTestApi(config)];
    conn = createRedisConnection(REDIS_URL, 'producer', 'tenancy-int-spec');
    await waitForRedis(conn, 5000);
  });

  after(async () => {
    await Promise.all(apis.map((a) => a.close()));
    await cleanupRedis(conn, [{ name: model, shards: 1 }], ids);
    await conn.del(...Object.values(t).map((tenant) => RateLimiter.key(tenant)));
    conn.disconnect();
  });

  const submit = async (
    api: number,
    tenant: string,
    params: Record<string, unknown> = {},
  ): Promise<Answer> => {
    const res = await call(`${apis[api]?.url}/v1/jobs`, {
      body: { model, task: 'generate', input: { prompt: 'hi' }, params, cache: 'bypass' },
      headers: { authorization: `Bearer ${key(tenant)}` },
    });
    if (typeof res.body['id'] === 'string') ids.add(res.body['id']);
    return res;
  };

  it('one burst is shared by both instances, refills at the rate, and answers 429 with OpenAI’s headers', async () => {
    const remaining: (string | null)[] = [];
    for (const api of [0, 1, 0]) {
      const res = await submit(api, t.burst);
      assert.equal(res.status, 202, res.text);
      assert.equal(res.headers.get('x-ratelimit-limit-requests'), '3');
      remaining.push(res.headers.get('x-ratelimit-remaining-requests'));
    }
    assert.deepEqual(remaining, ['2', '1', '0']);
    const refused = await submit(1, t.burst);
    assert.equal(refused.status, 429, refused.text);
    assert.equal((refused.body['error'] as { code: string }).code, 'rate_limit_exceeded');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(refused.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.match(refused.headers.get('x-ratelimit-reset-requests') ?? '', /^\d+(ms|(\.\d+)?s)$/);
    // 0.5 requests/s: one request back 2 s after the bucket ran dry.
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await submit(1, t.burst)).status, 202);
  });

  it('answers an OpenAI route over its limit in OpenAI’s error shape', async () => {
    assert.equal((await submit(0, t.openai)).status, 202, 'the one request of the burst');
    const headers = { authorization: `Bearer ${key(t.openai)}` };
    const res = await call(`${apis[1]?.url}/v1/completions`, {
      body: { model, prompt: 'hi', max_tokens: 1 },
      headers,
    });
    assert.equal(res.status, 429, res.text);
    const error = res.body['error'] as Record<string, unknown>;
    assert.equal(error['type'], 'rate_limit_error');
    assert.equal(error['code'], 'rate_limit_exceeded');
    assert.equal(error['param'], null);
    assert.ok(Number(res.headers.get('retry-after')) >= 99, 'one request per 100 s');
    assert.equal(res.headers.get('x-ratelimit-limit-requests'), '1');
  });

  it('charges prompt estimate + max_tokens to tokens/min and refuses a request larger than a minute', async () => {
    const tooBig = await submit(0, t.tokens, { max_tokens: 200 });
    assert.equal(tooBig.status, 429, tooBig.text);
    assert.match(
      (tooBig.body['error'] as { message: string }).message,
      /more than the 100 tokens per minute/,
    );
    // "hi" is 1 estimated token: 41 per request.
    const a = await submit(0, t.tokens, { max_tokens: 40 });
    const b = await submit(1, t.tokens, { max_tokens: 40 });
    assert.deepEqual([a.status, b.status], [202, 202]);
    assert.equal(b.headers.get('x-ratelimit-remaining-tokens'), '18');
    const c = await submit(0, t.tokens, { max_tokens: 40 });
    assert.equal(c.status, 429, c.text);
    assert.equal(c.headers.get('x-ratelimit-limit-tokens'), '100');
    // 23 tokens missing at 100/min: about 14 s.
    assert.ok(Number(c.headers.get('retry-after')) >= 13, c.headers.get('retry-after') ?? '');
  });

  it('refuses past max_queued, and a cancelled waiting job frees its place', async () => {
    // No worker runs: with a job already in BullMQ (the lookahead of 1), later jobs wait in the
    // fair queue.
    assert.equal((await submit(0, t.filler)).status, 202);
    const accepted: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await submit(i % 2, t.queued);
      assert.equal(res.status, 202, res.text);
      accepted.push(String(res.body['id']));
    }
    const over = await submit(1, t.queued);
    assert.equal(over.status, 429, over.text);
    assert.match((over.body['error'] as { message: string }).message, /max_queued/);
    const cancelled = await call(`${apis[0]?.url}/v1/jobs/${accepted[1]}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${key(t.queued)}` },
    });
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal((await submit(0, t.queued)).status, 202);
  });

  it('GET /v1/usage reports the caller’s own refusals and validates its window', async () => {
    const headers = { authorization: `Bearer ${key(t.tokens)}` };
    // Each API writes the usage it counted within a second (USAGE_FLUSH_MS).
    let res = await call(`${apis[1]?.url}/v1/usage`, { headers });
    for (let i = 0; i < 50; i++) {
      if ((res.body['totals'] as Record<string, number> | undefined)?.['rate_limited'] === 2) break;
      await new Promise((r) => setTimeout(r, 100));
      res = await call(`${apis[1]?.url}/v1/usage`, { headers });
    }
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['tenant'], t.tokens);
    assert.equal((res.body['totals'] as Record<string, number>)['rate_limited'], 2);
    assert.equal(
      ((res.body['models'] as Record<string, Record<string, number>>)[model] ?? {})['rate_limited'],
      2,
    );
    const now = Math.floor(Date.now() / 1000);
    const backwards = await call(`${apis[0]?.url}/v1/usage?start=${now}&end=${now - 60}`, { headers });
    assert.equal(backwards.status, 400);
    const tooLong = await call(`${apis[0]?.url}/v1/usage?start=${now - 30 * 86400}`, { headers });
    assert.equal(tooLong.status, 400);
    assert.equal((tooLong.body['error'] as { param: string }).param, 'start');
    const other = () =>
      new UsageStore(conn, () => 3600).report(t.queued, Date.now() - 60_000, Date.now() + 60_000);
    for (let i = 0; i < 50 && (await other()).totals.rate_limited === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal((await other()).totals.rate_limited, 1, 'each tenant sees its own counters');
  });
});
