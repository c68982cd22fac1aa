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
  const leased = uniqueModel();
  const models = [
    { name: model, backend: 'sim' as const, shards: 3, max_waiting: 20 },
    // Headroom for admission leases (blocks of places per API process).
    { name: leased, backend: 'sim' as const, shards: 3, max_waiting: 300 },
  ];
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

  it('never overshoots when leases admit: 500 concurrent submissions against max_waiting 300', async () => {
    const submit = (i: number) =>
      call<JobView>(`${(i % 2 === 0 ? a : b).url}/v1/jobs`, {
        body: { model: leased, task: 'generate', input: { prompt: `lease ${i}` }, cache: 'bypass' },
      });
    // Far below the limit (estimate 0 of 300): each replica admits these under a lease of 18 places.
    const first = await Promise.all(Array.from({ length: 10 }, (_, i) => submit(i)));
    assert.ok(first.every((r) => r.status === 202));
    await conn.call('CLIENT', 'PAUSE', '300', 'ALL');
    const rest = await Promise.all(Array.from({ length: 490 }, (_, i) => submit(10 + i)));
    const accepted = 10 + rest.filter((r) => r.status === 202).length;
    assert.ok(rest.every((r) => r.status === 202 || r.status === 429));
    assert.ok(accepted <= 300, `accepted ${accepted}`);
    // Places held by leases are given back once their jobs are queued: the rest fills up to the limit.
    // How soon depends on the machine's load, so refused submissions retry for a while.
    let more = 0;
    const until = Date.now() + 15_000;
    for (let i = 0; accepted + more < 300 && Date.now() < until; i++) {
      if ((await submit(1000 + i)).status === 202) more++;
      else await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(accepted + more, 300);
    assert.equal((await submit(5000)).status, 429);
    const waiting = await Promise.all(
      [0, 1, 2].map(
        async (s) =>
          (await conn.zcard(`hp:{${leased}:${s}}:prioritized`)) +
          (await conn.llen(`hp:{${leased}:${s}}:wait`)) +
          Number((await conn.get(`hp:{${leased}:${s}}:fq:count`)) ?? 0) +
          (await conn.zcard(`hp:{${leased}:${s}}:lane:ready`)),
      ),
    );
    assert.equal(
      waiting.reduce((x, y) => x + y, 0),
      300,
      'exactly max_waiting jobs wait',
    );
    assert.equal(await conn.zcard(AdmissionGate.leaseKey(leased)), 0, 'every lease was given back');
  });
});
