import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { shardQueueKey } from '@hotpath/contracts';
import { E2eCluster, asJob, describe, generateJob } from '@hotpath/e2e-harness';
import { AdmissionGate, jobEventsKey, keySlot, type RedisClient } from '@hotpath/queue';

// What autoscalers and operators read from Redis, on either topology (the runner's Redis Cluster
// pass runs this file again in REDIS_MODE=cluster): the per-shard keys KEDA's trigger reads hold
// the backlog, each shard's keys sit in one cluster slot, and a job is streamed over SSE.

const cluster = new E2eCluster('rkeys');
const model = cluster.modelName('keys');
const SHARDS = 3;
let redis: RedisClient;

before(
  async () => {
    await cluster.setUp({
      // Jobs wait with no worker up (what KEDA scales from zero on), so they must be queued, not refused.
      models: [
        {
          name: model,
          backend: 'sim',
          shards: SHARDS,
          queue_when_unserved: true,
          // KEDA's Redis list triggers read BullMQ's lists; with fair queuing on, jobs beyond the
          // lookahead wait in the fair queue's hash, which these triggers do not count yet.
          fairness: { enabled: false },
          sim: { base_ms: 50, per_item_ms: 0 },
        },
      ],
    });
    await cluster.startApi();
    redis = await cluster.redisClient();
  },
  { timeout: 60_000 },
);
after(
  async () => {
    redis?.disconnect();
    await cluster.tearDown();
  },
  { timeout: 30_000 },
);

cluster.test('the KEDA trigger keys count every waiting job, one slot per shard', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const priority = i % 3 === 0 ? 'high' : 'normal';
    const res = await cluster.client.submit(
      generateJob(model, { prompt: `keys ${i}`, routing_key: `tenant-${i}`, priority }),
    );
    assert.equal(res.status, 202, describe(res));
    ids.push(asJob(res).id);
  }
  let waiting = 0;
  for (let s = 0; s < SHARDS; s++) {
    // KEDA's redis(-cluster) scaler reads each listName on its own: LLEN for lists, ZCARD for sets.
    waiting +=
      (await redis.llen(shardQueueKey(model, s, 'wait'))) +
      (await redis.zcard(shardQueueKey(model, s, 'prioritized')));
    const keys = [
      shardQueueKey(model, s, 'wait'),
      shardQueueKey(model, s, 'prioritized'),
      shardQueueKey(model, s, 'active'),
      shardQueueKey(model, s, 'events'),
      AdmissionGate.key(model, s),
      jobEventsKey({ id: 'x', model, shard: s }),
    ];
    assert.equal(new Set(keys.map(keySlot)).size, 1, `shard ${s} keys share a slot`);
  }
  assert.equal(waiting, 12, 'every accepted job is under a trigger key');
  if (cluster.onRedisCluster) {
    // The shards are spread over the cluster (with 3 masters, not all on one node is the point).
    const slots = new Set(Array.from({ length: SHARDS }, (_, s) => keySlot(shardQueueKey(model, s, 'wait'))));
    assert.equal(slots.size, SHARDS);
  }

  // A worker drains them; a followed job streams its tokens.
  await cluster.startWorker();
  const first = ids[0] ?? '';
  const sse = await cluster.client.request('GET', `/v1/jobs/${first}/events`, { timeoutMs: 20_000 });
  assert.equal(sse.status, 200);
  assert.match(sse.text, /event: done/);
  for (const id of ids) {
    const done = await cluster.client.waitForStatus(id, ['completed'], 20_000);
    assert.equal(done.status, 'completed');
  }
});
