import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Priority, type QueuedJob } from '@hotpath/contracts';
import {
  FairQueue,
  ShardLane,
  ShardQueues,
  createRedisConnection,
  fairWaiting,
  waitForRedis,
} from '@hotpath/queue';
import { KEDA_LENGTH_SCRIPT, scaledKeys } from './queue-keys';

/**
 * Proves against a real Redis that the keys in the ScaledObjects (derived by `scaledKeys`, which the
 * manifest tests compare with every trigger) are where BullMQ and the fair queue keep a Hotpath shard
 * queue's jobs, and that KEDA's length read over them adds up to the backlog Hotpath itself reports.
 */
describe('ScaledObject keys on a real Redis', () => {
  const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const model = `t-${randomUUID().slice(0, 8)}`;
  /** A model of its own for the lane's test. */
  const lanes = `t-${randomUUID().slice(0, 8)}`;
  const shards = 2;
  let producer: Redis;
  let reader: Redis;
  let queues: ShardQueues;
  const workers: Worker[] = [];
  const workerConnections: Redis[] = [];

  before(async () => {
    producer = createRedisConnection(url, 'producer', 'deploy-test-producer');
    reader = createRedisConnection(url, 'producer', 'deploy-test-reader');
    queues = new ShardQueues(producer);
    await Promise.all([waitForRedis(producer, 5000), waitForRedis(reader, 5000)]);
  });

  after(async () => {
    await Promise.allSettled(workers.map((w) => w.close(true)));
    await Promise.allSettled(workerConnections.map((c) => c.quit()));
    for (let s = 0; s < shards; s++) await queues.queue(model, s).obliterate({ force: true });
    const fairKeys = [
      ...(await producer.keys(`hp:{${model}:*}:fq:*`)),
      ...(await producer.keys(`hp:{${lanes}:*}:lane:*`)),
    ];
    if (fairKeys.length > 0) await producer.del(...fairKeys);
    await queues.close();
    await Promise.allSettled([producer.quit(), reader.quit()]);
  });

  function job(shard: number, priority: Priority, tenant = 'deploy-test'): QueuedJob {
    return {
      id: randomUUID(),
      tenant,
      model,
      task: 'embed',
      input: { texts: ['hello'] },
      params: {},
      priority,
      shard,
      deadline_at: null,
      enqueued_at: Date.now(),
    };
  }

  /** What KEDA's redis scaler reads for one `listName`. */
  async function kedaLength(key: string): Promise<number> {
    return Number(await reader.eval(KEDA_LENGTH_SCRIPT, 1, key));
  }

  it('finds every enqueued job under the trigger keys, in the Redis type KEDA reads', async () => {
    const keys = scaledKeys([0, 1].map((shard) => ({ model, shard })));
    for (let s = 0; s < shards; s++) {
      const bull = queues.queue(model, s).keys;
      const own = new Set(['fair', 'lane', 'lane_active']);
      for (const k of keys.filter((x) => x.shard === s && !own.has(x.type)))
        assert.equal(k.key, bull[k.type], `${k.type} key`);
    }

    const plan: [number, Priority][] = [
      [0, 'high'],
      [0, 'normal'],
      [0, 'normal'],
      [0, 'low'],
      [1, 'high'],
      [1, 'low'],
      [1, 'normal'],
    ];
    for (const [shard, priority] of plan)
      await queues.enqueue(job(shard, priority), { attempts: 1, backoff_ms: 0 });

    for (let s = 0; s < shards; s++) {
      const expected = plan.filter(([shard]) => shard === s).length;
      const key = (type: string) => keys.find((k) => k.shard === s && k.type === type)?.key ?? '';
      // Every Hotpath job has a priority, so BullMQ files it in the sorted set, not the wait list.
      assert.equal(await reader.type(key('prioritized')), 'zset');
      assert.equal(await reader.zcard(key('prioritized')), expected);
      assert.equal(await reader.llen(key('wait')), 0);
      assert.equal(await kedaLength(key('prioritized')), expected);
      assert.equal(await kedaLength(key('wait')), 0);
      assert.equal(await kedaLength(key('active')), 0);
    }

    const sum = async () =>
      (await Promise.all(keys.map((k) => kedaLength(k.key)))).reduce((a, b) => a + b, 0);
    assert.equal(await sum(), plan.length);
    assert.equal(await queues.backlog(model, shards), plan.length, "Hotpath's own backlog agrees");

    // A worker taking a job moves it from the sorted set to the active list: the pool's work
    // (waiting + prioritized + running) is unchanged, so KEDA does not scale down a busy pool.
    const workerConnection = createRedisConnection(url, 'worker', 'deploy-test-worker');
    workerConnections.push(workerConnection);
    const worker = new Worker(queues.queue(model, 0).name, null, {
      connection: workerConnection,
      prefix: queues.queue(model, 0).opts.prefix,
      autorun: false,
    });
    worker.on('error', () => undefined);
    workers.push(worker);
    const taken = await worker.getNextJob(`token-${randomUUID()}`);
    assert.ok(taken, 'worker got a job');
    assert.equal(taken.opts.priority, 1, 'the high-priority job runs first');
    const active = keys.find((k) => k.shard === 0 && k.type === 'active')?.key ?? '';
    assert.equal(await reader.type(active), 'list');
    assert.equal(await kedaLength(active), 1);
    assert.equal(await sum(), plan.length);
    assert.equal(await queues.backlog(model, shards), plan.length - 1);
  });
  it('counts the jobs of the direct lane, ready and then running, each once', async () => {
    const keys = scaledKeys([{ model: lanes, shard: 0 }]);
    const key = (type: string) => keys.find((k) => k.type === type)?.key ?? '';
    const lane = new ShardLane(producer);
    for (const priority of ['high', 'normal', 'low'] as const)
      assert.ok(await lane.add({ ...job(0, priority), model: lanes }));
    assert.equal(await reader.type(key('lane')), 'zset');
    assert.equal(await kedaLength(key('lane')), 3);
    const sum = async () =>
      (await Promise.all(keys.map((k) => kedaLength(k.key)))).reduce((a, b) => a + b, 0);
    assert.equal(await sum(), 3);
    assert.equal(await queues.backlog(lanes, 1), 3, "Hotpath's own backlog agrees");
    // A worker taking a job leases it: ready to running, the pool's work unchanged.
    await lane.take(lanes, 0, 1, 30_000);
    assert.equal(await kedaLength(key('lane_active')), 1);
    assert.equal(await sum(), 3);
    assert.equal(await queues.backlog(lanes, 1), 2);
  });

  it('counts the jobs waiting in the fair queue beyond BullMQ’s lookahead, each once', async () => {
    // Shard 1 only (shard 0 holds the previous test's jobs): a backlog entered as the API enters it.
    const keys = scaledKeys([{ model, shard: 1 }]);
    const key = (type: string) => keys.find((k) => k.type === type)?.key ?? '';
    const kedaSum = async () =>
      (await Promise.all(keys.map((k) => kedaLength(k.key)))).reduce((a, b) => a + b, 0);
    const before = await kedaSum();
    const fair = new FairQueue(producer);
    const lookahead = 2;
    const entered: QueuedJob[] = [];
    for (let i = 0; i < 9; i++) {
      const j = job(1, i % 3 === 0 ? 'high' : 'normal', `tenant-${i % 3}`);
      const a = await fair.enqueue(j, { tenant: j.tenant, weight: 1 }, lookahead);
      if (a.kind === 'direct') {
        await queues.enqueue(j, { attempts: 1, backoff_ms: 0 });
        await fair.confirm(model, 1, j.id);
      }
      entered.push(j);
    }
    assert.equal(await reader.type(key('fair')), 'hash');
    const waitingFair = await kedaLength(key('fair'));
    assert.ok(waitingFair > 0, 'part of the backlog waits in the fair queue');
    assert.equal(waitingFair, await fairWaiting(reader, model, 1), 'the gauge reads the same key');
    assert.equal((await kedaSum()) - before, entered.length, 'every entered job counted once');

    // A dispatcher hands two more to BullMQ (add not yet confirmed): still each counted once.
    const inBullmq = (await kedaLength(key('wait'))) + (await kedaLength(key('prioritized')));
    const d = await fair.dispatch(model, 1, inBullmq + 2);
    assert.equal(d.jobs.length, 2);
    for (const j of d.jobs) await queues.enqueue(j, { attempts: 1, backoff_ms: 0 });
    assert.equal((await kedaSum()) - before, entered.length, 'after the hand-off, before its confirmation');
    await fair.dispatch(
      model,
      1,
      0,
      [],
      d.jobs.map((j) => j.id),
    );
    assert.equal((await kedaSum()) - before, entered.length, 'after the confirmation');
    assert.equal(await kedaLength(key('fair')), waitingFair - 2);
  });
});
