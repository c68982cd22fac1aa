import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedisConnection, waitForRedis } from './redis-connection';
import { JobStore, jobRecordKey } from './job-store';
import { JobWaiter } from './job-waiter';
import { IdempotencyStore } from './idempotency';
import { ShardQueues } from './shard-queues';
import { EMPTY_TIMINGS } from './job-record';
import type { QueuedJob } from '@hotpath/contracts';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('JobStore, JobWaiter, IdempotencyStore, ShardQueues on real Redis', () => {
  let redis: Redis;
  let sub: Redis;
  let store: JobStore;
  const model = `t-${randomUUID().slice(0, 8)}`;

  before(async () => {
    redis = createRedisConnection(REDIS_URL, 'producer', 'test');
    sub = createRedisConnection(REDIS_URL, 'subscriber', 'test-sub');
    await waitForRedis(redis, 5000);
    store = new JobStore(redis, { resultTtlS: 60 });
  });

  after(async () => {
    redis.disconnect();
    sub.disconnect();
  });

  const newRecord = (id = randomUUID()) => ({
    id,
    tenant: 'acme',
    model,
    task: 'generate' as const,
    priority: 'normal' as const,
    shard: 0,
    createdAt: Date.now(),
  });

  it('creates, runs and completes a job with a result TTL', async () => {
    const r = newRecord();
    await store.create(r);
    const running = await store.markRunning(r.id, Date.now());
    assert.deepEqual(running, { applied: true, previous: 'queued', attempt: 1, watched: false });
    const done = await store.complete(r.id, {
      result: { text: 'hi', tokens: [1, 2], finish_reason: 'length' },
      usage: { prompt_tokens: 1, completion_tokens: 2 },
      timings: { ...EMPTY_TIMINGS, total: 3 },
    });
    assert.equal(done.applied, true);
    const rec = await store.get(r.id);
    assert.equal(rec?.status, 'completed');
    assert.equal(rec?.tenant, 'acme');
    assert.deepEqual(rec?.result, { text: 'hi', tokens: [1, 2], finish_reason: 'length' });
    assert.equal(rec?.attempts, 1);
    const ttl = await redis.ttl(jobRecordKey(r.id));
    assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
  });

  it('lets exactly one of cancel and complete win', async () => {
    const r = newRecord();
    await store.create(r);
    await store.markRunning(r.id, Date.now());
    const [c, d] = await Promise.all([
      store.cancel(r.id),
      store.complete(r.id, { result: { embeddings: [] }, usage: null, timings: EMPTY_TIMINGS }),
    ]);
    assert.equal(Number(c.applied) + Number(d.applied), 1);
    const again = await store.complete(r.id, {
      result: { embeddings: [] },
      usage: null,
      timings: EMPTY_TIMINGS,
    });
    assert.equal(again.applied, false);
  });

  it('reports a missing record as previous undefined', async () => {
    const res = await store.markRunning(randomUUID(), Date.now());
    assert.deepEqual(res, { applied: false, previous: undefined, attempt: 0, watched: false });
  });

  it('wakes a waiter on completion without polling, and times out otherwise', async () => {
    const waiter = new JobWaiter(sub, store);
    const r = newRecord();
    await store.create(r);
    const t0 = Date.now();
    const pending = waiter.waitForTerminal(r.id, 5000);
    setTimeout(() => {
      void store.fail(r.id, { code: 'inference_failed', message: 'boom' });
    }, 100);
    const rec = await pending;
    assert.equal(rec?.status, 'failed');
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(waiter.waiting, 0);

    const other = newRecord();
    await store.create(other);
    const t1 = Date.now();
    const still = await waiter.waitForTerminal(other.id, 200);
    assert.equal(still?.status, 'queued');
    assert.ok(Date.now() - t1 >= 190);
  });

  it('claims idempotency keys per tenant and detects a different body', async () => {
    const idem = new IdempotencyStore(redis, 60);
    const key = randomUUID();
    const a = await idem.claim('t1', key, 'job-1', 'h1');
    assert.deepEqual(a, { kind: 'claimed' });
    assert.deepEqual(await idem.claim('t1', key, 'job-2', 'h1'), { kind: 'existing', jobId: 'job-1' });
    assert.deepEqual(await idem.claim('t1', key, 'job-3', 'h2'), { kind: 'mismatch', jobId: 'job-1' });
    assert.deepEqual(await idem.claim('t2', key, 'job-4', 'h1'), { kind: 'claimed' }, 'keys are per tenant');
    await idem.release('t1', key, 'job-1');
    assert.deepEqual(await idem.claim('t1', key, 'job-5', 'h1'), { kind: 'claimed' });
  });

  it('enqueues into hash-tagged shard queues, counts backlog and removes queued jobs', async () => {
    const queues = new ShardQueues(redis);
    try {
      const mk = (shard: number, priority: 'high' | 'low'): QueuedJob => ({
        id: randomUUID(),
        tenant: 'acme',
        model,
        task: 'generate',
        input: { prompt: 'x' },
        params: {},
        priority,
        shard,
        deadline_at: null,
        enqueued_at: Date.now(),
      });
      const jobs = [mk(0, 'high'), mk(0, 'low'), mk(1, 'low')];
      for (const j of jobs) await queues.enqueue(j, { attempts: 2, backoff_ms: 10 });
      assert.equal(await queues.backlog(model, 2), 3);
      assert.equal(await redis.zcard(`hp:{${model}:0}:prioritized`), 2, 'keys follow the documented naming');
      assert.equal((await queues.remove(model, 0, jobs[0]!.id)).outcome, 'removed');
      assert.equal((await queues.remove(model, 0, jobs[0]!.id)).outcome, 'missing');
      assert.equal(await queues.backlog(model, 2), 2);
      for (const s of [0, 1]) await queues.queue(model, s).obliterate({ force: true });
    } finally {
      await queues.close();
    }
  });
});
