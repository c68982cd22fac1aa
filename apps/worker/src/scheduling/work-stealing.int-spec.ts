import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { shardQueueRef } from '@hotpath/contracts';
import { TestProducer, sleep, startTestWorker, testCluster, uniqueModel } from '../testing/worker-test-kit';
import type { WorkerHandle, WorkerOptions } from '../worker-app';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('work stealing across shards (real Redis)', () => {
  const stealer = uniqueModel('steal');
  const noSteal = uniqueModel('nosteal');
  const wide = uniqueModel('wide');
  const cluster = testCluster([
    { name: stealer, backend: 'sim', shards: 2, concurrency: 4, default_max_tokens: 4, sim: { base_ms: 5 } },
    { name: noSteal, backend: 'sim', shards: 2, concurrency: 4, default_max_tokens: 4, steal: false },
    { name: wide, backend: 'sim', shards: 3, concurrency: 4, default_max_tokens: 4 },
  ]);
  let shard0Worker: WorkerHandle;
  let producer: TestProducer;

  const start = (shards: WorkerOptions['shards']): Promise<WorkerHandle> =>
    startTestWorker(REDIS_URL, cluster, { shards, stealIntervalMs: 50 });

  before(async () => {
    producer = new TestProducer(REDIS_URL, cluster);
    await producer.ready();
    shard0Worker = await start(
      new Map([
        [stealer, new Set([0])],
        [noSteal, new Set([0])],
      ]),
    );
  });

  after(async () => {
    await shard0Worker?.close({ graceMs: 0 });
    // Leave nothing behind on the shared Redis.
    for (const m of cluster.models) {
      for (let s = 0; s < m.shards; s++) {
        const ref = shardQueueRef(m.name, s);
        const q = new Queue(ref.name, { connection: producer.redis, prefix: ref.prefix });
        await q.obliterate({ force: true }).catch(() => undefined);
        await q.close();
      }
    }
    await producer?.close();
  });

  it('serves only its own shard queues', () => {
    assert.deepEqual(
      shard0Worker.queues.map((q) => `${q.model}:${q.shard}`),
      [`${stealer}:0`, `${noSteal}:0`],
    );
  });

  it('with stealing on, an idle worker completes jobs enqueued on a shard it does not serve', async () => {
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        producer.submit({ model: stealer, shard: 1, generate: { prompt: `p${i}` } }),
      ),
    );
    const recs = await Promise.all(ids.map((id) => producer.waitForTerminal(id, 8000)));
    assert.deepEqual(
      recs.map((r) => r?.status),
      ids.map(() => 'completed'),
    );
    assert.ok(recs.every((r) => r?.shard === 1));
  });

  it('with stealing off, jobs on an unserved shard stay queued', async () => {
    const id = await producer.submit({ model: noSteal, shard: 1, generate: { prompt: 'lonely' } });
    const own = await producer.submit({ model: noSteal, shard: 0, generate: { prompt: 'mine' } });
    assert.equal((await producer.waitForTerminal(own, 8000))?.status, 'completed');
    await sleep(1000);
    assert.equal((await producer.store.get(id))?.status, 'queued');
  });

  it('one worker serving every shard completes jobs on each of them', async () => {
    const all = await start(new Map([[wide, 'all']]));
    try {
      const ids = await Promise.all(
        [0, 1, 2, 0, 1, 2].map((shard, i) =>
          producer.submit({ model: wide, shard, generate: { prompt: `w${i}` } }),
        ),
      );
      const recs = await Promise.all(ids.map((id) => producer.waitForTerminal(id, 8000)));
      assert.deepEqual(
        recs.map((r) => r?.status),
        ids.map(() => 'completed'),
      );
      assert.deepEqual(
        recs.map((r) => r?.shard),
        [0, 1, 2, 0, 1, 2],
      );
    } finally {
      await all.close({ graceMs: 0 });
    }
  });
});
