import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { ModelDigests, ResultCache, computeCacheKey } from '@hotpath/cache';
import { JobRequestSchema, type ClusterConfigInput, type JobView } from '@hotpath/contracts';
import { freePort } from '@hotpath/ports';
import { createRedisConnection, waitForRedis } from '@hotpath/queue';
import { call, startTestApi, testConfig, uniqueModel, type TestApi } from '../testing/api-harness';
import { TestRedisServer } from '../testing/redis-server';
const TENANT_KEY = 'key-tenant-a-0123456789';
const ADMIN_KEY = 'key-admin-ops-0123456789';
const DIGEST = 'sha256:purge-test';

const model = uniqueModel();
const other = uniqueModel();
const models = [model, other].map((name) => ({
  name,
  backend: 'sim' as const,
  tasks: ['generate' as const],
  shards: 1,
  cache: { scope: 'global' as const },
}));
const cluster: ClusterConfigInput = { models };
const entry = (text: string) => ({
  result: { text, tokens: [1, 2], finish_reason: 'length' as const },
  usage: { prompt_tokens: 2, completion_tokens: 2 },
  modelDigest: DIGEST,
  createdAt: Date.now(),
});
const BOUNDS = { ttlS: 60, maxEntries: 100, maxEntryBytes: 10_000 };

// A private Redis: open dev mode's admin routes close on a Redis any keyed API has used, and the
// shared test Redis has seen many.
describe('DELETE /v1/admin/cache/{model} (in-process API, real Redis)', () => {
  let redis: TestRedisServer;
  let conn: Redis;
  let cache: ResultCache;
  const apis: TestApi[] = [];

  before(async () => {
    redis = new TestRedisServer(await freePort());
    await redis.start();
    conn = createRedisConnection(redis.url, 'producer', 'cache-admin-int-spec');
    await waitForRedis(conn, 5000);
    cache = new ResultCache(conn);
    const digests = new ModelDigests(conn);
    for (const m of [model, other]) await digests.publish(m, DIGEST);
  });
  after(async () => {
    try {
      await Promise.all(apis.map((a) => a.close()));
    } finally {
      // Even when set-up failed: an open connection would keep the test process alive.
      conn.disconnect();
      await redis.dispose();
    }
  });

  const start = async (keys: { tenants?: boolean; admins?: boolean }): Promise<TestApi> => {
    const config = testConfig({
      redisUrl: redis.url,
      cluster,
      keys: keys.tenants ? [{ tenant: 'a', key: TENANT_KEY }] : [],
    });
    const api = await startTestApi({
      ...config,
      admin: { keys: keys.admins ? [{ tenant: 'ops', key: ADMIN_KEY }] : [] },
    });
    apis.push(api);
    return api;
  };
  const fill = async (m: string, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await cache.set(m, `h${i}`, entry(`v${i}`), BOUNDS);
  };

  it('open dev mode: purges only that model and a cached prompt becomes a miss', async () => {
    const api = await start({});
    const body = { model, task: 'generate', input: { prompt: 'purge me' } };
    const key = computeCacheKey({
      job: JobRequestSchema.parse(body),
      modelDigest: DIGEST,
      scope: 'global',
      tenant: 'default',
      defaultMaxTokens: 64,
    });
    await cache.set(model, key, entry('cached answer'), BOUNDS);
    await fill(model, 3);
    await fill(other, 2);
    const hit = await call<JobView>(`${api.url}/v1/jobs`, { body });
    assert.equal(hit.status, 200);
    assert.equal(hit.headers.get('x-cache'), 'hit');

    const res = await call(`${api.url}/v1/admin/cache/${model}`, { method: 'DELETE' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { model, purged: 4 });
    assert.equal(await cache.size(model), 0);
    assert.equal(await cache.size(other), 2, 'other models keep their entries');
    assert.equal((await conn.keys(`hp:cache:{m:${model}}:e:*`)).length, 0);

    const miss = await call<JobView>(`${api.url}/v1/jobs`, { body });
    assert.equal(miss.status, 202);
    assert.equal(miss.headers.get('x-cache'), 'miss');

    const again = await call(`${api.url}/v1/admin/cache/${model}`, { method: 'DELETE' });
    assert.deepEqual(again.body, { model, purged: 0 });
    const unknown = await call<{ error: { code: string } }>(`${api.url}/v1/admin/cache/nope-model`, {
      method: 'DELETE',
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'model_not_found');
  });

  it('with admin keys: only an admin key may purge, tenant keys are refused', async () => {
    const api = await start({ tenants: true, admins: true });
    await fill(other, 2);
    const url = `${api.url}/v1/admin/cache/${other}`;
    const none = await call<{ error: { code: string } }>(url, { method: 'DELETE' });
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'unauthorized');
    const tenant = await call(url, { method: 'DELETE', headers: { authorization: `Bearer ${TENANT_KEY}` } });
    assert.equal(tenant.status, 401);
    assert.equal(await cache.size(other), 2);
    const ok = await call(url, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { model: other, purged: 2 });
  });

  it('with tenant keys but no admin keys the route is disabled (403)', async () => {
    const api = await start({ tenants: true });
    const res = await call<{ error: { code: string } }>(`${api.url}/v1/admin/cache/${other}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TENANT_KEY}` },
    });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'forbidden');
  });

  it('open dev mode on a Redis a keyed API used: admin routes are closed (403), entries kept', async () => {
    await start({ tenants: true });
    await fill(other, 2);
    const open = await start({});
    const res = await call<{ error: { code: string } }>(`${open.url}/v1/admin/cache/${other}`, {
      method: 'DELETE',
    });
    assert.equal(res.status, 403, res.text);
    assert.equal(res.body.error.code, 'forbidden');
    assert.equal(await cache.size(other), 2, 'no tenant lost its entries');
    const dead = await call(`${open.url}/v1/admin/webhooks/dead-letters`);
    assert.equal(dead.status, 403);
  });
});
