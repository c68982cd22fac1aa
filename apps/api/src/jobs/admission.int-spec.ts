import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { JobView } from '@hotpath/contracts';
import { AdmissionGate, createRedisConnection } from '@hotpath/queue';
import { call, startTestApi, testConfig, uniqueModel, type TestApi } from '../testing/api-harness';
import { cleanupRedis } from '../testing/redis-cleanup';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('max_waiting under concurrency (two API replicas, real Redis)', () => {
  const model = uniqueModel();
  const models = [{ name: model, backend: 'sim' as const, shards: 3, max_waiting: 20 }];
  let a: TestApi;
  let b: TestApi;
  let conn: Redis;
  const ids = new Set<string>();

  before(async () => {
    const config = testConfig({ redisUrl: REDIS_URL, cluster: { models } });
    [a, b] = await Promise.all([startTestApi(config), startTestApi(config)]);
    conn = createRedisConnection(REDIS_URL, 'producer', 'admission-int-spec');
  });

  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await cleanupRedis(conn, models, ids);
    await conn.del(AdmissionGate.key(model));
    conn.disconnect();
  });

  it('accepts exactly max_waiting of 150 concurrent submissions spread over both replicas', async () => {
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        call<JobView>(`${(i % 2 === 0 ? a : b).url}/v1/jobs`, {
          body: { model, task: 'generate', input: { prompt: `prompt ${i}` }, cache: 'bypass' },
        }),
      ),
    );
    for (const r of answers) if (r.body?.id) ids.add(r.body.id);
    const accepted = answers.filter((r) => r.status === 202).length;
    const refused = answers.filter((r) => r.status === 429).length;
    assert.equal(accepted, 20, `accepted ${accepted}`);
    assert.equal(refused, 130);
    // Every reservation was given back: the queues alone hold the count now.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await conn.zcard(AdmissionGate.key(model)), 0);
  });
});
