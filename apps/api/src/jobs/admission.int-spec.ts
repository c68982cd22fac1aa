import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { JobView } from '@hotpath/contracts';
import { freePort } from '@hotpath/ports';
import { AdmissionGate, createRedisConnection, waitForRedis } from '@hotpath/queue';
import { call, startTestApi, testConfig, uniqueModel, type TestApi } from '../testing/api-harness';
import { TestRedisServer } from '../testing/redis-server';

// A private Redis: the test pauses it (CLIENT PAUSE) so that every submission reaches the
// admission check before any of them is enqueued, which is what a slow (fsync-bound) Redis does.
describe('max_waiting under concurrency (two API replicas, real Redis)', () => {
  let redis: TestRedisServer;
  const model = uniqueModel();
  const models = [{ name: model, backend: 'sim' as const, shards: 3, max_waiting: 20 }];
  let a: TestApi;
  let b: TestApi;
  let conn: Redis;

  before(async () => {
    redis = new TestRedisServer(await freePort());
    await redis.start();
    const config = testConfig({ redisUrl: redis.url, cluster: { models } });
    [a, b] = await Promise.all([startTestApi(config), startTestApi(config)]);
    conn = createRedisConnection(redis.url, 'producer', 'admission-int-spec');
    await waitForRedis(conn, 5000);
  });

  after(async () => {
    await Promise.all([a.close(), b.close()]);
    conn.disconnect();
    await redis.dispose();
  });

  it('accepts exactly max_waiting of 150 concurrent submissions spread over both replicas', async () => {
    await conn.call('CLIENT', 'PAUSE', '500', 'ALL');
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        call<JobView>(`${(i % 2 === 0 ? a : b).url}/v1/jobs`, {
          body: { model, task: 'generate', input: { prompt: `prompt ${i}` }, cache: 'bypass' },
        }),
      ),
    );
    const accepted = answers.filter((r) => r.status === 202).length;
    const refused = answers.filter((r) => r.status === 429).length;
    assert.equal(accepted, 20, `accepted ${accepted}`);
    assert.equal(refused, 130);
    // Every reservation was given back: the queues alone hold the count now.
    await new Promise((r) => setTimeout(r, 50));
    for (let s = 0; s < 3; s++) assert.equal(await conn.zcard(AdmissionGate.key(model, s)), 0);
  });
});
