import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { shardQueueKey, type JobView } from '@hotpath/contracts';
import { freePort } from '@hotpath/ports';
import { createRedisConnection, fairKey, jobRecordKey, waitForRedis, webhookSecretKey } from '@hotpath/queue';
import { call, startTestApi, testConfig, uniqueModel, type TestApi } from './testing/api-harness';
import { cleanupRedis } from './testing/redis-cleanup';
import { TestRedisServer } from './testing/redis-server';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const KEY = 'key-hardening-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };
const SECRET = 'whsec-hardening-0123456789';

type ErrorBody = { error: { code: string; message: string; param?: string } };

/** Sends `request` on a raw socket and returns everything the server answered before closing. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (b: Buffer) => (answer += b.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.write(request);
    setTimeout(() => socket.end(), 1000);
  });
}

describe('hardening: what a hostile client found (in-process API, real Redis)', () => {
  const model = uniqueModel();
  const models = [{ name: model, backend: 'sim' as const, shards: 1 }];
  let api: TestApi;
  let conn: Redis;
  const ids = new Set<string>();

  const submit = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await call<JobView>(`${api.url}/v1/jobs`, { body, headers: { ...AUTH, ...headers } });
    if (res.body?.id) ids.add(res.body.id);
    return res;
  };

  before(async () => {
    api = await startTestApi({
      ...testConfig({ redisUrl: REDIS_URL, cluster: { models }, keys: [{ tenant: 'h', key: KEY }] }),
      webhooks: { allowedHosts: ['127.0.0.1'] },
    });
    conn = createRedisConnection(REDIS_URL, 'producer', 'hardening-int-spec');
    await waitForRedis(conn, 5000);
  });

  after(async () => {
    await api.close();
    await conn.del(...[...ids].map(webhookSecretKey));
    await cleanupRedis(conn, models, ids);
    conn.disconnect();
  });

  it('creates the job again when the record of an Idempotency-Key has expired', async () => {
    const body = { model, task: 'generate', input: { prompt: 'idempotent' } };
    const key = { 'idempotency-key': `hard-${Date.now()}` };
    const first = await submit(body, key);
    assert.equal(first.status, 202, first.text);
    await conn.del(jobRecordKey(first.body.id)); // the record expired (or was lost with Redis data)
    const again = await submit(body, key);
    assert.equal(again.status, 202, again.text);
    assert.notEqual(again.body.id, first.body.id, 'a new job');
    assert.equal(again.headers.get('idempotent-replayed'), null);
    const replay = await submit(body, key);
    assert.equal(replay.body.id, again.body.id);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  });

  it('answers 400 to a Last-Event-ID beyond the range of stream ids', async () => {
    const job = await submit({ model, task: 'generate', input: { prompt: 'events' } });
    const res = await call<ErrorBody>(`${api.url}/v1/jobs/${job.body.id}/events`, {
      headers: { ...AUTH, 'last-event-id': '99999999999999999999-0' },
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error.param, 'Last-Event-ID');
  });

  it('keeps the webhook secret out of the queued payload', async () => {
    const res = await submit({
      model,
      task: 'generate',
      input: { prompt: 'notify me' },
      webhook: { url: 'http://127.0.0.1:9/hook', secret: SECRET },
    });
    assert.equal(res.status, 202, res.text);
    // The payload is in BullMQ, or still in the shard's fair queue when earlier jobs fill the lookahead.
    const data =
      (await conn.hget(shardQueueKey(model, 0, res.body.id), 'data')) ??
      (await conn.hget(fairKey(model, 0, 'data'), res.body.id)) ??
      '';
    assert.match(data, /127\.0\.0\.1:9\/hook/);
    assert.ok(!data.includes(SECRET), 'no secret in the queued payload');
    assert.equal(await conn.get(webhookSecretKey(res.body.id)), SECRET);
    assert.ok((await conn.ttl(webhookSecretKey(res.body.id))) > 0, 'the secret expires');
  });

  it('answers malformed headers and over-long ids in the API error shape', async () => {
    const ctrl = await rawExchange(api.url, `GET /v1/jobs/x HTTP/1.1\r\nhost: x\r\nx-test: a\u0001b\r\n\r\n`);
    assert.match(ctrl, /^HTTP\/1\.1 400/);
    assert.equal(
      (JSON.parse(ctrl.slice(ctrl.indexOf('\r\n\r\n') + 4)) as ErrorBody).error.code,
      'invalid_request',
    );
    const long = await call<ErrorBody>(`${api.url}/v1/jobs/${'a'.repeat(300)}`, { headers: AUTH });
    assert.equal(long.status, 414);
    assert.equal(long.body.error.code, 'invalid_request');
  });

  it('answers 405 with Allow for a known path asked with another method, 404 for unknown paths', async () => {
    const put = await call<ErrorBody>(`${api.url}/v1/jobs`, { method: 'PUT', headers: AUTH });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
    assert.equal(put.body.error.code, 'invalid_request');
    const patch = await call(`${api.url}/v1/jobs/some-id`, { method: 'PATCH', headers: AUTH });
    assert.equal(patch.status, 405);
    assert.match(patch.headers.get('allow') ?? '', /DELETE/);
    const models = await call<{ error: { type: string } }>(`${api.url}/v1/models`, { method: 'DELETE' });
    assert.equal(models.status, 405);
    assert.equal(models.body.error.type, 'invalid_request_error', 'OpenAI routes keep their error shape');
    assert.equal((await call(`${api.url}/v1/nothing-here`, { headers: AUTH })).status, 404);
  });

  it('bounds the dead-letter listing limit on both sides', async () => {
    // Open dev mode on a private Redis: on the shared one, keyed APIs have closed admin routes.
    const redis = new TestRedisServer(await freePort());
    await redis.start();
    const open = await startTestApi(testConfig({ redisUrl: redis.url, cluster: { models } }));
    try {
      const url = `${open.url}/v1/admin/webhooks/dead-letters`;
      for (const limit of ['0', '1001', '5000']) {
        assert.equal((await call(`${url}?limit=${limit}`)).status, 400, `limit=${limit}`);
      }
      assert.equal((await call(`${url}?limit=1000`)).status, 200);
    } finally {
      await open.close();
      await redis.dispose();
    }
  });

  it('honours Idempotency-Key on /v1/jobs/batch: a retried batch gets its jobs back', async () => {
    const body = {
      jobs: [
        { model, task: 'generate', input: { prompt: 'batch a' } },
        { model, task: 'generate', input: { prompt: 'batch b' } },
      ],
    };
    const headers = { ...AUTH, 'idempotency-key': `batch-${Date.now()}` };
    const first = await call<{ jobs: { job: JobView }[] }>(`${api.url}/v1/jobs/batch`, { body, headers });
    const again = await call<{ jobs: { job: JobView }[] }>(`${api.url}/v1/jobs/batch`, { body, headers });
    assert.equal(first.status, 200, first.text);
    const a = first.body.jobs.map((e) => e.job.id);
    for (const id of a) ids.add(id);
    assert.deepEqual(
      again.body.jobs.map((e) => e.job.id),
      a,
    );
    assert.equal(new Set(a).size, 2);
  });
});
