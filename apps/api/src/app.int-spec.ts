import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { JobView } from '@hotpath/contracts';
import { JOB_CANCEL_CHANNEL, JobStore, ShardQueues, createRedisConnection, laneKeys } from '@hotpath/queue';
import { HOTPATH_METRIC_NAMES } from '@hotpath/telemetry';
import { call, startTestApi, testConfig, uniqueModel, type TestApi } from './testing/api-harness';
import { cleanupRedis } from './testing/redis-cleanup';
import { registeredRoutes } from './http/route-table';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const KEY_A = 'key-tenant-a-0123456789';
const KEY_B = 'key-tenant-b-0123456789';
const A = { authorization: `Bearer ${KEY_A}` };
const B = { authorization: `Bearer ${KEY_B}` };

const gen = uniqueModel();
const embed = uniqueModel();
const small = uniqueModel();
const models = [
  { name: gen, backend: 'sim' as const, tasks: ['generate' as const], shards: 2 },
  { name: embed, backend: 'sim' as const, tasks: ['embed' as const], shards: 1 },
  { name: small, backend: 'sim' as const, tasks: ['generate' as const], shards: 1, max_waiting: 2 },
];

describe('api (in-process, real Redis, no worker)', () => {
  let api: TestApi;
  let conn: Redis;
  let store: JobStore;
  let queues: ShardQueues;
  const ids = new Set<string>();

  const submit = async (body: unknown, headers: Record<string, string> = A) => {
    const res = await call<JobView>(`${api.url}/v1/jobs`, { body, headers });
    if (res.body?.id) ids.add(res.body.id);
    return res;
  };
  const genJob = (prompt = 'hello', extra: Record<string, unknown> = {}) => ({
    model: gen,
    task: 'generate',
    input: { prompt },
    ...extra,
  });

  before(async () => {
    api = await startTestApi(
      testConfig({
        redisUrl: REDIS_URL,
        cluster: { models, api: { max_body_bytes: 2048, max_wait_s: 5 } },
        keys: [
          { tenant: 'a', key: KEY_A },
          { tenant: 'b', key: KEY_B },
        ],
      }),
    );
    conn = createRedisConnection(REDIS_URL, 'producer', 'api-int-spec');
    store = new JobStore(conn, { resultTtlS: 300 });
    queues = new ShardQueues(conn);
  });

  after(async () => {
    await api.close();
    await cleanupRedis(conn, models, ids);
    await queues.close();
    conn.disconnect();
  });

  it('serves /healthz and /readyz without a key', async () => {
    assert.deepEqual((await call(`${api.url}/healthz`)).body, { status: 'ok' });
    const ready = await call(`${api.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(ready.body['status'], 'ready');
  });

  it('answers 401 without a key or with a wrong one', async () => {
    const variants: Record<string, string>[] = [
      {},
      { authorization: 'Bearer nope' },
      { authorization: `Basic ${KEY_A}` },
    ];
    for (const headers of variants) {
      const res = await call(`${api.url}/v1/jobs`, { body: genJob(), headers });
      assert.equal(res.status, 401);
      assert.deepEqual(Object.keys(res.body), ['error']);
      assert.equal((res.body['error'] as { code: string }).code, 'unauthorized');
    }
  });

  it('refuses an invalid body with 400 naming the field', async () => {
    const res = await submit(genJob('hi', { params: { max_tokens: 0 } }));
    assert.equal(res.status, 400);
    const err = (res.body as unknown as { error: { code: string; param: string; message: string } }).error;
    assert.equal(err.code, 'invalid_request');
    assert.equal(err.param, 'params.max_tokens');
    assert.match(err.message, /params\.max_tokens/);
  });

  it('answers 404 model_not_found for an unknown model and 400 for an unserved task', async () => {
    const unknown = await call(`${api.url}/v1/jobs`, {
      body: { ...genJob(), model: 'no-such-model' },
      headers: A,
    });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body['error'], {
      code: 'model_not_found',
      message: 'model "no-such-model" does not exist',
      param: 'model',
    });
    const task = await call(`${api.url}/v1/jobs`, {
      body: { model: gen, task: 'embed', input: { texts: ['x'] } },
      headers: A,
    });
    assert.equal(task.status, 400);
    assert.equal((task.body['error'] as { param: string }).param, 'task');
  });

  it('answers 413 for a body over max_body_bytes, 400 for malformed JSON, 404 for unknown routes', async () => {
    const big = await call(`${api.url}/v1/jobs`, { body: genJob('x'.repeat(4000)), headers: A });
    assert.equal(big.status, 413);
    assert.equal((big.body['error'] as { code: string }).code, 'payload_too_large');
    const bad = await call(`${api.url}/v1/jobs`, { rawBody: '{"model":', headers: A });
    assert.equal(bad.status, 400);
    assert.equal((bad.body['error'] as { code: string }).code, 'invalid_request');
    const none = await call(`${api.url}/v1/nothing-here`);
    assert.equal(none.status, 404);
    assert.equal((none.body['error'] as { code: string }).code, 'not_found');
  });

  it('accepts a job with 202 and returns it queued on GET', async () => {
    const res = await submit(genJob('a prompt'), { ...A, 'x-request-id': 'req-123' });
    assert.equal(res.status, 202);
    assert.equal(res.body.status, 'queued');
    assert.equal(res.body.model, gen);
    assert.equal(res.headers.get('x-request-id'), 'req-123');
    // No worker has published the model's version yet, so nothing can be keyed: the cache is bypassed.
    assert.equal(res.headers.get('x-cache'), 'bypass');
    const got = await call<JobView>(`${api.url}/v1/jobs/${res.body.id}`, { headers: A });
    assert.equal(got.status, 200);
    assert.equal(got.body.id, res.body.id);
    assert.equal(got.body.status, 'queued');
    assert.ok(got.headers.get('x-request-id'));
    // No backlog: the job waits in its shard's direct lane.
    const payload = await conn.hget(laneKeys(gen, res.body.shard).data, res.body.id);
    assert.equal((JSON.parse(payload ?? '{}') as { tenant?: string }).tenant, 'a');

    const bypass = await submit(genJob('b', { cache: 'bypass' }));
    assert.equal(bypass.headers.get('x-cache'), 'bypass');
  });

  it('returns the same job for a repeated Idempotency-Key and 409 for a different body', async () => {
    const headers = { ...A, 'idempotency-key': `idem-${gen}` };
    const first = await submit(genJob('same body'), headers);
    assert.equal(first.status, 202);
    const again = await submit(genJob('same body'), headers);
    assert.ok(again.status === 202 || again.status === 200);
    assert.equal(again.body.id, first.body.id);
    const other = await submit(genJob('another body'), headers);
    assert.equal(other.status, 409);
    assert.equal((other.body as unknown as { error: { code: string } }).error.code, 'conflict');
    // Keys are per tenant: tenant b's identical key is a new job.
    const b = await submit(genJob('same body'), { ...B, 'idempotency-key': `idem-${gen}` });
    assert.equal(b.status, 202);
    assert.notEqual(b.body.id, first.body.id);
  });

  it('keeps tenants apart: another tenant gets 404 on GET and DELETE', async () => {
    const mine = await submit(genJob('tenant a only'));
    const path = `${api.url}/v1/jobs/${mine.body.id}`;
    assert.equal((await call(path, { headers: B })).status, 404);
    const del = await call(path, { method: 'DELETE', headers: B });
    assert.equal(del.status, 404);
    assert.equal((del.body['error'] as { code: string }).code, 'not_found');
    assert.equal((await call<JobView>(path, { headers: A })).body.status, 'queued');
  });

  it('cancels a queued job: removed from its lane, status cancelled, second DELETE is 409', async () => {
    const res = await submit(genJob('to cancel'));
    const id = res.body.id;
    const lane = laneKeys(gen, res.body.shard);
    assert.notEqual(await conn.zscore(lane.ready, id), null);
    const del = await call<JobView>(`${api.url}/v1/jobs/${id}`, { method: 'DELETE', headers: A });
    assert.equal(del.status, 200);
    assert.equal(del.body.status, 'cancelled');
    assert.equal(await conn.zscore(lane.ready, id), null);
    assert.equal(await conn.hget(lane.data, id), null);
    assert.equal(await queues.queue(gen, res.body.shard).getJob(id), undefined);
    assert.equal((await call<JobView>(`${api.url}/v1/jobs/${id}`, { headers: A })).body.status, 'cancelled');
    assert.equal((await call(`${api.url}/v1/jobs/${id}`, { method: 'DELETE', headers: A })).status, 409);
  });

  it('cancels a running job and tells workers on the cancel channel', async () => {
    const res = await submit(genJob('running'));
    const id = res.body.id;
    await store.markRunning(id, Date.now());
    const sub = createRedisConnection(REDIS_URL, 'subscriber', 'api-int-spec-sub');
    try {
      const heard = new Promise<string>((resolve) =>
        sub.on('message', (_c: string, m: string) => resolve(m)),
      );
      await sub.subscribe(JOB_CANCEL_CHANNEL);
      const del = await call<JobView>(`${api.url}/v1/jobs/${id}`, { method: 'DELETE', headers: A });
      assert.equal(del.status, 200);
      assert.equal(del.body.status, 'cancelled');
      const msg = await Promise.race([
        heard,
        new Promise<string>((r) => setTimeout(() => r('timeout'), 3000)),
      ]);
      assert.equal(msg, id);
    } finally {
      sub.disconnect();
    }
  });

  it('answers 429 queue_full with Retry-After once max_waiting jobs wait', async () => {
    const body = { model: small, task: 'generate', input: { prompt: 'p' } };
    assert.equal((await submit(body)).status, 202);
    assert.equal((await submit(body)).status, 202);
    const full = await submit(body);
    assert.equal(full.status, 429);
    assert.equal((full.body as unknown as { error: { code: string } }).error.code, 'queue_full');
    assert.ok(Number(full.headers.get('retry-after')) >= 1);
  });

  it('submits a batch member by member, in order', async () => {
    const res = await call<{
      jobs: { status_code: number; job?: JobView; error?: { code: string; param?: string } }[];
    }>(`${api.url}/v1/jobs/batch`, {
      body: {
        jobs: [
          genJob('first'),
          { model: embed, task: 'embed', input: { texts: ['x'] }, params: { max_tokens: 3 } },
          { model: embed, task: 'embed', input: { texts: ['y'] } },
        ],
      },
      headers: A,
    });
    assert.equal(res.status, 200);
    const [first, bad, third] = res.body.jobs;
    for (const j of res.body.jobs) if (j.job) ids.add(j.job.id);
    assert.equal(first?.status_code, 202);
    assert.equal(first?.job?.status, 'queued');
    assert.equal(bad?.status_code, 400);
    assert.equal(bad?.error?.code, 'invalid_request');
    assert.equal(bad?.error?.param, 'params.max_tokens');
    assert.equal(third?.status_code, 202);
    assert.equal(third?.job?.task, 'embed');
    const empty = await call(`${api.url}/v1/jobs/batch`, { body: { jobs: [] }, headers: A });
    assert.equal(empty.status, 400);
    assert.equal((empty.body['error'] as { param: string }).param, 'jobs');
  });

  it('with Prefer: wait, answers 202 after the wait when nothing runs', async () => {
    const t0 = Date.now();
    const res = await submit(genJob('nobody runs me'), { ...A, prefer: 'wait=1' });
    const elapsed = Date.now() - t0;
    assert.equal(res.status, 202);
    assert.equal(res.body.status, 'queued');
    assert.equal(res.headers.get('preference-applied'), 'wait=1');
    assert.ok(elapsed >= 900 && elapsed < 4000, `waited ${elapsed} ms`);
  });

  it('with Prefer: wait, answers 200 with the finished job when it completes in time', async () => {
    const pending = submit(genJob('finish me'), { ...A, prefer: 'wait=5' });
    let id: string | undefined;
    for (let i = 0; i < 50 && !id; i++) {
      await new Promise((r) => setTimeout(r, 50));
      for (const k of await conn.keys('hp:job:*')) {
        const rec = await store.get(k.slice('hp:job:'.length));
        if (rec?.model === gen && rec.status === 'queued' && !ids.has(rec.id)) id = rec.id;
      }
    }
    assert.ok(id, 'the submitted job record appeared');
    ids.add(id);
    const t = await store.complete(id, {
      result: { text: 'done', tokens: [1, 2], finish_reason: 'stop' },
      usage: { prompt_tokens: 2, completion_tokens: 2 },
      timings: { queue: 1, batch_wait: 0, inference: 1, total: 2 },
    });
    assert.equal(t.applied, true);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.body.id, id);
    assert.equal(res.body.status, 'completed');
    assert.deepEqual(res.body.result, { text: 'done', tokens: [1, 2], finish_reason: 'stop' });
  });

  it('long-polls GET ?wait=N until the job finishes', async () => {
    const res = await submit(genJob('poll me'));
    const id = res.body.id;
    const pending = call<JobView>(`${api.url}/v1/jobs/${id}?wait=5`, { headers: A });
    await new Promise((r) => setTimeout(r, 200));
    await store.fail(id, { code: 'inference_failed', message: 'boom' });
    const got = await pending;
    assert.equal(got.status, 200);
    assert.equal(got.body.status, 'failed');
    assert.equal((await call(`${api.url}/v1/jobs/${id}?wait=abc`, { headers: A })).status, 400);
  });

  it('publishes an OpenAPI document covering every route, and Swagger UI', async () => {
    const doc = await call<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>(`${api.url}/openapi.json`);
    assert.equal(doc.status, 200);
    assert.match(doc.body.openapi, /^3\.1\./);
    for (const p of [
      '/v1/jobs',
      '/v1/jobs/batch',
      '/v1/jobs/{id}',
      '/v1/jobs/{id}/events',
      '/v1/completions',
      '/v1/chat/completions',
      '/v1/embeddings',
      '/v1/models',
      '/v1/models/{id}',
      '/tokenize',
      '/detokenize',
      '/v1/admin/cache/{model}',
      '/v1/admin/webhooks/dead-letters',
      '/healthz',
      '/readyz',
      '/metrics',
      '/openapi.json',
      '/docs',
    ]) {
      assert.ok(doc.body.paths[p], `path ${p}`);
    }
    assert.ok(doc.body.paths['/v1/jobs/{id}']?.['delete']);
    // Every route the server registered is in the document, with its method.
    const skipped = new Set(['/docs/{file}', '/admin/queues/app.js', '/admin/queues/data.json', '/*']);
    for (const [method, url] of registeredRoutes(api.app.getHttpAdapter().getInstance())) {
      const path = url.replace(/:(\w+)/g, '{$1}');
      if (method === 'HEAD' || method === 'OPTIONS' || skipped.has(path)) continue;
      assert.ok(doc.body.paths[path]?.[method.toLowerCase()], `${method} ${path} is documented`);
    }
    for (const s of ['CompletionRequest', 'ChatCompletion', 'EmbeddingList', 'Model', 'JobList'])
      assert.ok(doc.body.components.schemas[s], `schema ${s}`);
    for (const s of ['JobRequest', 'JobView', 'BatchJobRequest', 'BatchResponse', 'Error']) {
      assert.ok(doc.body.components.schemas[s], `schema ${s}`);
    }
    const html = await call(`${api.url}/docs`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    assert.match(html.text, /swagger-ui-bundle\.js/);
    const js = await call(`${api.url}/docs/swagger-ui-bundle.js`);
    assert.equal(js.status, 200);
    assert.equal((await call(`${api.url}/docs/..%2Fpackage.json`)).status, 404);
  });

  it('exposes the documented metrics, labelled by route template', async () => {
    const res = await call(`${api.url}/metrics`);
    assert.equal(res.status, 200);
    for (const name of HOTPATH_METRIC_NAMES) assert.ok(res.text.includes(name), name);
    const sample = (name: string, labels: Record<string, string>): string | undefined =>
      res.text
        .split('\n')
        .find(
          (l) =>
            l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
        )
        ?.split(' ')
        .at(-1);
    assert.ok(
      Number(
        sample('hotpath_http_request_duration_seconds_count', {
          route: '/v1/jobs/:id',
          method: 'GET',
          status: '200',
        }),
      ) >= 1,
    );
    assert.doesNotMatch(res.text, /route="\/v1\/jobs\/[0-9a-f]{8}-/);
    assert.equal(sample('hotpath_jobs_total', { model: small, task: 'generate', outcome: 'rejected' }), '1');
    assert.equal(sample('hotpath_jobs_total', { model: small, task: 'generate', outcome: 'accepted' }), '2');
    assert.equal(sample('hotpath_queue_depth', { model: small, shard: '0', state: 'lane_ready' }), '2');
  });
});
