import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { JobView } from '@hotpath/contracts';
import { freePort } from '@hotpath/ports';
import {
  call,
  startTestApi,
  testConfig,
  uniqueModel,
  type Answer,
  type TestApi,
} from './testing/api-harness';
import { TestRedisServer } from './testing/redis-server';

/** Polls `fn` every 100 ms until `ok` holds for its answer, for at most `ms`. */
async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('api during a Redis outage', () => {
  let redis: TestRedisServer;
  let api: TestApi;
  const model = uniqueModel();
  const job = { model, task: 'generate', input: { prompt: 'hello' } };
  const post = (): Promise<Answer<JobView>> => call<JobView>(`${api.url}/v1/jobs`, { body: job });

  before(async () => {
    redis = new TestRedisServer(await freePort());
    await redis.start();
    api = await startTestApi(
      testConfig({ redisUrl: redis.url, cluster: { models: [{ name: model, backend: 'sim', shards: 2 }] } }),
    );
  });

  after(async () => {
    await api.close();
    await redis.dispose();
  });

  it('answers 503 with Retry-After while Redis is down and recovers by itself', async () => {
    assert.equal((await post()).status, 202);

    await redis.stop();
    const down = await until(post, (r) => r.status === 503, 3000);
    assert.equal(down.status, 503);
    assert.equal((down.body as unknown as { error: { code: string } }).error.code, 'redis_unavailable');
    assert.ok(Number(down.headers.get('retry-after')) >= 1);
    const ready = await call(`${api.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.ok(ready.headers.get('retry-after'));
    const get = await call(`${api.url}/v1/jobs/some-id`);
    assert.equal(get.status, 503);
    const t0 = Date.now();
    const metrics = await call(`${api.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.ok(Date.now() - t0 < 2000, '/metrics does not hang while Redis is down');
    assert.equal((await call(`${api.url}/healthz`)).status, 200);

    await redis.start();
    const back = await until(post, (r) => r.status === 202, 8000);
    assert.equal(back.status, 202);
    assert.equal(back.body.status, 'queued');
    // Every connection is back soon after the first one that carried a submission.
    const readyAgain = await until(
      () => call(`${api.url}/readyz`),
      (r) => r.status === 200,
      8000,
    );
    assert.equal(readyAgain.status, 200);
  });

  it('starts while Redis is down, reports not ready, and serves once Redis comes up', async () => {
    await redis.stop();
    const late = await startTestApi(
      testConfig({ redisUrl: redis.url, cluster: { models: [{ name: model, backend: 'sim', shards: 2 }] } }),
      { redisWaitMs: 0 },
    );
    try {
      assert.equal((await call(`${late.url}/healthz`)).status, 200);
      assert.equal((await call(`${late.url}/readyz`)).status, 503);
      const refused = await call(`${late.url}/v1/jobs`, { body: job });
      assert.equal(refused.status, 503);
      await redis.start();
      const ok = await until(
        () => call<JobView>(`${late.url}/v1/jobs`, { body: job }),
        (r) => r.status === 202,
        8000,
      );
      assert.equal(ok.status, 202);
      const waited = await call<JobView>(`${late.url}/v1/jobs/${ok.body.id}?wait=0.2`);
      assert.equal(waited.status, 200);
      assert.equal(waited.body.status, 'queued');
    } finally {
      await late.close();
    }
  });
});
