import assert from 'node:assert/strict';
import { shardQueueKey } from '@hotpath/contracts';
import { E2eCluster, asJob, describe, fetchMetrics, generateJob, sampleValue } from '@hotpath/e2e-harness';
import {
  AdmissionGate,
  fairBacklogKey,
  jobEventsKey,
  keySlot,
  laneKeys,
  type RedisClient,
} from '@hotpath/queue';

// What autoscalers and operators read from Redis, on either topology (the runner's Redis Cluster
// pass runs this file again in REDIS_MODE=cluster): the per-shard keys KEDA's triggers read hold
// the whole backlog, with fair queuing on (the default) too, each shard's keys sit in one cluster
// slot, the API's queue-depth gauge agrees, and a job is streamed over SSE.

/**
 * What KEDA's `redis` scaler reads for one `listName`: the key's TYPE, then LLEN (list or missing),
 * ZCARD, SCARD or HLEN; one script, so TYPE and the count see the same state.
 */
const KEDA_LENGTH = `
local t = redis.call('TYPE', KEYS[1]).ok
local count = { list = 'LLEN', none = 'LLEN', zset = 'ZCARD', set = 'SCARD', hash = 'HLEN' }
return redis.call(count[t], KEYS[1])
`;

const cluster = new E2eCluster('rkeys');
const model = cluster.modelName('keys');
const SHARDS = 3;
let redis: RedisClient;

cluster.hooks(
  {
    // Jobs wait with no worker up (what KEDA scales from zero on), so they must be queued, not refused.
    models: [
      cluster.simModel(model, {
        shards: SHARDS,
        queue_when_unserved: true,
        // Fair queuing stays on (the default) with a lookahead of 1 (concurrency 4): of 12 jobs
        // over 3 shards, most wait in the shards' fair queues rather than in BullMQ.
        concurrency: 4,
        sim: { base_ms: 50, per_item_ms: 0 },
      }),
    ],
  },
  {
    start: async () => {
      await cluster.startApi();
      redis = await cluster.redisClient();
    },
    stop: () => redis?.disconnect(),
  },
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
  let bullmq = 0;
  let fair = 0;
  let lane = 0;
  for (let s = 0; s < SHARDS; s++) {
    // One script call per key, as KEDA's redis(-cluster) scaler reads each trigger's listName.
    const length = async (key: string) => Number(await redis.eval(KEDA_LENGTH, 1, key));
    bullmq +=
      (await length(shardQueueKey(model, s, 'wait'))) +
      (await length(shardQueueKey(model, s, 'prioritized')));
    fair += await length(fairBacklogKey(model, s));
    lane += await length(laneKeys(model, s).ready);
    const keys = [
      shardQueueKey(model, s, 'wait'),
      shardQueueKey(model, s, 'prioritized'),
      shardQueueKey(model, s, 'active'),
      shardQueueKey(model, s, 'events'),
      fairBacklogKey(model, s),
      laneKeys(model, s).ready,
      laneKeys(model, s).leased,
      AdmissionGate.key(model, s),
      jobEventsKey({ id: 'x', model, shard: s }),
    ];
    assert.equal(new Set(keys.map(keySlot)).size, 1, `shard ${s} keys share a slot`);
  }
  assert.equal(
    bullmq + fair + lane,
    12,
    `every accepted job is under a trigger key (BullMQ ${bullmq}, fair ${fair}, lane ${lane})`,
  );
  assert.ok(
    fair > 0,
    'jobs beyond the lookahead wait in the fair queues (the keys the BullMQ triggers miss)',
  );
  // The API's gauge (what Prometheus-based scaling reads) counts the same backlog.
  const metrics = await fetchMetrics(`${cluster.client.baseUrl}/metrics`);
  const depth = (state: string) => sampleValue(metrics, 'hotpath_queue_depth', { model, state });
  assert.equal(depth('waiting') + depth('prioritized') + depth('fair_waiting') + depth('lane_ready'), 12);
  assert.equal(depth('fair_waiting'), fair);
  if (cluster.onRedisCluster) {
    // The shards are spread over the cluster (with 3 masters, not all on one node is the point).
    const slots = new Set(Array.from({ length: SHARDS }, (_, s) => keySlot(shardQueueKey(model, s, 'wait'))));
    assert.equal(slots.size, SHARDS);
  }

  // A worker drains them (its hand-off empties the fair queues); a followed job streams its tokens.
  await cluster.startWorker();
  const first = ids[0] ?? '';
  const sse = await cluster.client.request('GET', `/v1/jobs/${first}/events`, { timeoutMs: 20_000 });
  assert.equal(sse.status, 200);
  assert.match(sse.text, /event: done/);
  for (const id of ids) {
    const done = await cluster.client.waitForStatus(id, ['completed'], 20_000);
    assert.equal(done.status, 'completed');
  }
  for (let s = 0; s < SHARDS; s++) assert.equal(await redis.hlen(fairBacklogKey(model, s)), 0);
});
