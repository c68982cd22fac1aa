import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { JobView } from '@hotpath/contracts';
import { freePort } from '@hotpath/ports';
import { JobStore, createRedisConnection, waitForRedis } from '@hotpath/queue';
import { call, startTestApi, testConfig, uniqueModel, type TestApi } from './testing/api-harness';
import { TestRedisServer } from './testing/redis-server';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the API has created a job record (so the job was accepted) and a little more: the
 * outage must begin during the wait, not during a submission that a busy machine made slow.
 */
async function untilAccepted(url: string, known: number): Promise<void> {
  const conn: Redis = createRedisConnection(url, 'producer', 'outage-int-spec-probe');
  try {
    await waitForRedis(conn, 5000);
    for (let i = 0; i < 100 && (await conn.keys('hp:job:*')).length <= known; i++) await sleep(50);
  } finally {
    conn.disconnect();
  }
  await sleep(300);
}

/**
 * A job accepted before Redis went away is answered with, not with a 503: clients (the OpenAI SDKs
 * among them) retry 5xx by submitting again. Redis runs with an fsync'd AOF, so a SIGKILL keeps
 * the job, as in production.
 */
describe('accepted jobs during a Redis outage', () => {
  let redis: TestRedisServer;
  let api: TestApi;
  const model = uniqueModel();
  const earlier = new Set<string>();

  before(async () => {
    redis = new TestRedisServer(await freePort(), { aof: true });
    await redis.start();
    api = await startTestApi(
      testConfig({
        redisUrl: redis.url,
        cluster: { models: [{ name: model, backend: 'sim', shards: 1 }], api: { max_wait_s: 20 } },
      }),
    );
  });

  after(async () => {
    await api.close();
    await redis.dispose();
  });

  it('answers Prefer: wait with 202 and the job when Redis goes down during the wait', async () => {
    const pending = call<JobView>(`${api.url}/v1/jobs`, {
      body: { model, task: 'generate', input: { prompt: 'hello' } },
      headers: { prefer: 'wait=6' },
    });
    await untilAccepted(redis.url, 0);
    await redis.stop();
    const res = await pending;
    await redis.start();
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.status, 'queued');
    assert.ok(res.body.id);
    earlier.add(res.body.id);
  });

  it('ends a long-poll with the last known state when Redis goes down during it', async () => {
    for (let i = 0; i < 100 && (await call(`${api.url}/readyz`)).status !== 200; i++) await sleep(100);
    const [id] = [...earlier];
    const pending = call<JobView>(`${api.url}/v1/jobs/${id}?wait=6`);
    await sleep(500);
    await redis.stop();
    const res = await pending;
    await redis.start();
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.id, id);
    assert.equal(res.body.status, 'queued');
  });

  it('finishes a non-streamed chat completion whose job completes after the outage', async () => {
    for (let i = 0; i < 100 && (await call(`${api.url}/readyz`)).status !== 200; i++) await sleep(100);
    const pending = call(`${api.url}/v1/chat/completions`, {
      body: { model, messages: [{ role: 'user', content: 'hi' }] },
    });
    await untilAccepted(redis.url, earlier.size);
    await redis.stop();
    await sleep(2000);
    await redis.start();
    // Play the worker: complete the job the request is waiting for.
    const conn: Redis = createRedisConnection(redis.url, 'producer', 'outage-int-spec');
    try {
      await waitForRedis(conn, 5000);
      const store = new JobStore(conn, { resultTtlS: 60 });
      const keys = await conn.keys('hp:job:*');
      const recs = await store.getMany(keys.map((k) => k.slice('hp:job:'.length)));
      const queued = recs.find((r) => r?.status === 'queued' && !earlier.has(r.id));
      assert.ok(queued, 'the chat completion job survived the outage');
      await store.complete(queued.id, {
        result: { text: 'hello there', tokens: [1, 2], finish_reason: 'stop' },
        usage: { prompt_tokens: 3, completion_tokens: 2 },
        timings: { queue: 0, batch_wait: 0, inference: 1, total: 1 },
      });
    } finally {
      conn.disconnect();
    }
    const res = await pending;
    assert.equal(res.status, 200, res.text);
    const choices = res.body['choices'] as { message: { content: string } }[];
    assert.equal(choices[0]?.message.content, 'hello there');
  });
});
