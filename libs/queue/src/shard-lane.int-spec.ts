import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { shardQueueRef, type Priority, type QueuedJob } from '@hotpath/contracts';
import { createRedisConnection, waitForRedis, type RedisClient } from './redis-connection';
import { parseRedisTarget } from './redis-target';
import { ShardLane, laneKeys, laneWakeChannel } from './shard-lane';
import { FairDispatcher } from './fair-dispatcher';
import { FairQueue } from './fair-queue';
import { keySlot } from './redis-slots';
import { ShardQueues } from './shard-queues';
import { queuedTestJob } from './testing/queued-job';

// The test runner's Redis Cluster pass runs this file again against its cluster
// (HOTPATH_E2E_REDIS_CLUSTER): every lane script must then stay within its shard's slot.
const CLUSTER_URL = process.env['HOTPATH_E2E_REDIS_CLUSTER'];
const TARGET = parseRedisTarget(
  CLUSTER_URL
    ? { url: CLUSTER_URL, mode: 'cluster' }
    : { url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' },
);

function job(model: string, priority: Priority = 'normal'): QueuedJob {
  return queuedTestJob(model, { priority });
}

const newModel = (): string => `lane-${randomUUID().slice(0, 8)}`;

describe('ShardLane on real Redis', () => {
  let redis: RedisClient;
  let sub: RedisClient;
  let clock = Date.now();
  let lane: ShardLane;

  before(async () => {
    redis = createRedisConnection(TARGET, 'producer', 'test-lane');
    sub = createRedisConnection(TARGET, 'subscriber', 'test-lane-sub');
    await Promise.all([waitForRedis(redis, 5000), waitForRedis(sub, 5000)]);
    lane = new ShardLane(redis, undefined, () => clock);
  });
  after(() => {
    redis.disconnect();
    sub.disconnect();
  });

  it('keeps every key of a shard in one slot', () => {
    const k = laneKeys('m', 3);
    assert.equal(new Set([k.ready, k.data, k.leased].map(keySlot)).size, 1);
  });

  it('hands jobs out by priority, then in arrival order, each once', async () => {
    const model = newModel();
    const low = job(model, 'low');
    const first = job(model);
    clock += 1;
    const second = job(model);
    const high = job(model, 'high');
    for (const j of [low, first, second, high]) assert.equal(await lane.add(j), true);
    const taken = await lane.take(model, 0, 3, 1000);
    assert.deepEqual(
      taken.map((t) => t.id),
      [high.id, first.id, second.id],
    );
    assert.deepEqual(taken[0]?.payload, high);
    assert.deepEqual(
      (await lane.take(model, 0, 5, 1000)).map((t) => t.id),
      [low.id],
    );
    assert.deepEqual(await lane.take(model, 0, 5, 1000), []);
    assert.deepEqual(await lane.counts(model, 0), { ready: 0, leased: 4, failed: 0 });
  });

  it('reports the enqueue time of the oldest ready job, whatever its class', async () => {
    const model = newModel();
    assert.equal(await lane.oldestReady(model, 0), undefined);
    const first = clock;
    await lane.add(job(model, 'low'));
    clock += 5;
    await lane.add(job(model, 'high'));
    assert.equal(Math.floor((await lane.oldestReady(model, 0)) ?? 0), first);
  });

  it('puts a front job ahead of every ready one', async () => {
    const model = newModel();
    const high = job(model, 'high');
    const front = job(model, 'low');
    await lane.add(high);
    await lane.add(front, { front: true });
    assert.deepEqual(
      (await lane.take(model, 0, 2, 1000)).map((t) => t.id),
      [front.id, high.id],
    );
  });

  it('refuses a bounded add behind a BullMQ backlog or over the bound', async () => {
    const model = newModel();
    assert.equal(await lane.add(job(model), { bound: 1 }), true);
    assert.equal(await lane.add(job(model), { bound: 1 }), false, 'bound reached');
    await lane.take(model, 0, 1, 1000);
    const ref = shardQueueRef(model, 0);
    const q = new Queue(ref.name, { connection: redis, prefix: ref.prefix });
    try {
      await q.add('generate', {}, { priority: 2 });
      assert.equal(await lane.add(job(model), { bound: 8 }), false, 'a job waits in BullMQ');
      assert.equal(await lane.add(job(model)), true, 'an admitted job enters anyway');
    } finally {
      await q.obliterate({ force: true });
      await q.close();
    }
  });

  it('wakes the shard once when its first job gets ready', async () => {
    const model = newModel();
    const heard: string[] = [];
    const channel = laneWakeChannel(model, 0);
    sub.on('message', (ch: string) => {
      if (ch === channel) heard.push(ch);
    });
    await sub.subscribe(channel);
    await lane.add(job(model));
    await lane.add(job(model));
    await lane.take(model, 0, 2, 1000);
    await lane.add(job(model));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(heard.length, 2);
    await sub.unsubscribe(channel);
  });

  it('renews running leases, reports the expired ones and forgets them once recovered', async () => {
    const model = newModel();
    const [a, b, c] = [job(model), job(model), job(model)];
    for (const j of [a, b, c]) await lane.add(j);
    await lane.take(model, 0, 3, 1000);
    clock += 500;
    await lane.renew(model, 0, [a.id], 1000);
    await lane.release(model, 0, [c.id]);
    clock += 600;
    const expired = await lane.expired(model, 0, 10);
    assert.deepEqual(
      expired.map((e) => e.id),
      [b.id],
    );
    assert.deepEqual(expired[0]?.payload, b);
    assert.equal(await lane.forget(model, 0, [b.id, a.id]), 1, 'a live lease is not forgotten');
    assert.deepEqual(await lane.counts(model, 0), { ready: 0, leased: 1, failed: 0 });
    // A released job is not brought back by a late renewal.
    await lane.renew(model, 0, [c.id], 1000);
    assert.deepEqual(await lane.counts(model, 0), { ready: 0, leased: 1, failed: 0 });
  });

  it('reports a lease whose release got half-way without a payload', async () => {
    const model = newModel();
    const a = job(model);
    await lane.add(a);
    await lane.take(model, 0, 1, 10);
    await redis.hdel(laneKeys(model, 0).data, a.id);
    clock += 20;
    assert.deepEqual(await lane.expired(model, 0, 10), [{ id: a.id }]);
    assert.equal(await lane.forget(model, 0, [a.id]), 1);
  });

  it('counts ended jobs per minute, lists failed ones and sweeps them after their retention', async () => {
    const model = newModel();
    const minute = Math.floor(clock / 60_000);
    await lane.tally(model, 0, [{ minute, completed: 3, failed: 1 }], [{ id: 'f1', at: clock - 5000 }]);
    await lane.tally(model, 0, [{ minute: minute - 1, completed: 2, failed: 0 }], [{ id: 'f2', at: clock }]);
    assert.deepEqual(await lane.perMinute(model, 0, 'completed', 3), [0, 2, 3]);
    assert.deepEqual(await lane.perMinute(model, 0, 'failed', 2), [0, 1]);
    assert.deepEqual(
      (await lane.recentFailed(model, 0, 5)).map((f) => f.id),
      ['f2', 'f1'],
    );
    assert.equal((await lane.counts(model, 0)).failed, 2);
    assert.equal(await lane.sweepFailed(model, 0, clock - 1000), 1);
    assert.deepEqual(
      (await lane.recentFailed(model, 0, 5)).map((f) => f.id),
      ['f2'],
    );
    // Minutes older than the hour kept are dropped by the next write.
    clock += 61 * 60_000;
    await lane.tally(model, 0, [{ minute: Math.floor(clock / 60_000), completed: 1, failed: 0 }], []);
    assert.deepEqual(await redis.hkeys(laneKeys(model, 0).minutes), [
      `completed:${Math.floor(clock / 60_000)}`,
    ]);
  });

  it('adds many at once, each in its class, but none that already runs', async () => {
    const model = newModel();
    const running = job(model);
    await lane.add(running);
    await lane.take(model, 0, 1, 1000);
    const [low, high] = [job(model, 'low'), job(model, 'high')];
    assert.equal(await lane.addMany(model, 0, [low, running, high]), 2);
    assert.deepEqual(
      (await lane.take(model, 0, 5, 1000)).map((t) => t.id),
      [high.id, low.id],
    );
  });

  it('takes what the fair queue dispatcher hands out for a shard with the lane', async () => {
    const model = newModel();
    const fair = new FairQueue(redis, () => clock);
    const queued = [job(model), job(model), job(model)];
    // Lookahead 0: every job waits in the fair queue.
    for (const j of queued)
      assert.equal((await fair.enqueue(j, { tenant: j.tenant, weight: 1 }, 0)).kind, 'queued');
    const queues = new ShardQueues(redis);
    const errors: unknown[] = [];
    const d = new FairDispatcher(
      fair,
      queues,
      { attempts: 1, backoff_ms: 0 },
      (e) => errors.push(e),
      undefined,
      lane,
    );
    d.add({ model, shard: 0, lookahead: 2, lane: true });
    try {
      d.waiting(model, 0);
      const deadline = Date.now() + 5000;
      while ((await lane.counts(model, 0)).ready < 2 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal((await lane.counts(model, 0)).ready, 2, 'the lookahead went to the lane');
      assert.deepEqual(
        (await lane.take(model, 0, 5, 1000)).map((t) => t.id),
        queued.slice(0, 2).map((j) => j.id),
      );
      assert.equal(await queues.queue(model, 0).count(), 0, 'nothing went to BullMQ');
      assert.deepEqual(errors, []);
    } finally {
      await d.close();
      await queues.close();
    }
  });

  it('removes a ready job, not a running one', async () => {
    const model = newModel();
    const [a, b] = [job(model), job(model)];
    await lane.add(a);
    await lane.take(model, 0, 1, 1000);
    await lane.add(b);
    const removed = await lane.remove(model, 0, b.id);
    assert.equal(removed.outcome, 'removed');
    assert.deepEqual(removed.outcome === 'removed' ? removed.payload : undefined, b);
    assert.deepEqual(await lane.remove(model, 0, a.id), { outcome: 'active' });
    assert.deepEqual(await lane.remove(model, 0, b.id), { outcome: 'missing' });
    assert.deepEqual(await lane.take(model, 0, 1, 1000), []);
  });
});
