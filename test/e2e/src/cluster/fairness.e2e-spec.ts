import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  E2eCluster,
  asError,
  asJob,
  describe,
  generateJob,
  waitFor,
  type HotpathClient,
} from '@hotpath/e2e-harness';
import { fairBacklogKey, type RedisClient } from '@hotpath/queue';

// Tenant fair queuing, rate limits, queue limits and usage through real API and worker processes,
// on either topology (the runner's Redis Cluster pass runs this file again in REDIS_MODE=cluster,
// where every fair-queue, rate-limit and usage script must stay within one slot).

const cluster = new E2eCluster('fair');
const model = cluster.modelName('fair');
const TENANTS = ['flood', 'late', 'limited', 'capped', 'filler'] as const;
type Tenant = (typeof TENANTS)[number];
// Rate buckets and usage counters are per tenant, not per model: unique names per run keep a
// shared Redis (the runner's cluster, a rerun within a bucket's refill time) from carrying them over.
const RUN = randomUUID().slice(0, 8);
const nameOf = (t: Tenant): string => `${t}-${RUN}`;
const keyOf = (t: Tenant): string => `key-${t}-${RUN}`;
const as = (t: Tenant): HotpathClient => cluster.client.withKey(keyOf(t));
let redis: RedisClient;

cluster.hooks(
  {
    models: [
      cluster.serialSimModel(model, {
        // One job at a time (a lookahead of 1): the order jobs start in is the fair order.
        // Jobs queue while no worker runs, so the backlog is complete before the first dispatch.
        queue_when_unserved: true,
        sim: { base_ms: 10, per_item_ms: 0 },
      }),
    ],
    tenants: {
      overrides: {
        [nameOf('limited')]: { requests_per_s: 0.01, burst: 2 },
        [nameOf('capped')]: { max_queued: 2 },
      },
    },
  },
  {
    start: async () => {
      await cluster.startApi({
        env: { HOTPATH_API_KEYS: TENANTS.map((t) => `${nameOf(t)}:${keyOf(t)}`).join(',') },
      });
      redis = await cluster.redisClient();
    },
    stop: () => redis?.disconnect(),
  },
);

async function accepted(client: HotpathClient, prompt: string): Promise<string> {
  const res = await client.submit(generateJob(model, { prompt }));
  assert.equal(res.status, 202, describe(res));
  return asJob(res).id;
}

cluster.test('a request burst beyond the bucket is refused with 429 rate_limit_exceeded', async () => {
  await accepted(as('limited'), 'limited 1');
  await accepted(as('limited'), 'limited 2');
  const refused = await as('limited').submit(generateJob(model, { prompt: 'limited 3' }));
  assert.equal(refused.status, 429, describe(refused));
  assert.equal(asError(refused).code, 'rate_limit_exceeded');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  // Another tenant's bucket is its own.
  await accepted(as('filler'), 'filler after limited');
});

cluster.test('max_queued refuses a tenant’s third waiting job; a cancel frees its place', async () => {
  // The jobs above hold BullMQ's lookahead, so these wait in the fair queue.
  const first = await accepted(as('capped'), 'capped 1');
  const second = await accepted(as('capped'), 'capped 2');
  const over = await as('capped').submit(generateJob(model, { prompt: 'capped 3' }));
  assert.equal(over.status, 429, describe(over));
  assert.match(asError(over).message, /max_queued/);
  assert.equal((await as('capped').cancel(second)).status, 200);
  const third = await accepted(as('capped'), 'capped 4');
  assert.equal((await as('capped').cancel(first)).status, 200);
  assert.equal((await as('capped').cancel(third)).status, 200);
});

cluster.test(
  'a tenant behind a flood is served between the flood’s jobs; usage counts each tenant’s jobs',
  async () => {
    const flood: string[] = [];
    for (let i = 0; i < 16; i++) flood.push(await accepted(as('flood'), `flood ${i}`));
    const late: string[] = [];
    for (let i = 0; i < 4; i++) late.push(await accepted(as('late'), `late ${i}`));
    assert.ok((await redis.hlen(fairBacklogKey(model, 0))) >= 16, 'the backlog waits in the fair queue');

    await cluster.startWorker();
    const all = [...flood, ...late];
    const views = await Promise.all(
      all.map((id) => as(late.includes(id) ? 'late' : 'flood').waitForStatus(id, ['completed'], 30_000)),
    );
    // Start order, from the records (positions, not durations: nothing here depends on speed).
    const order = views
      .map((v) => ({ id: v.id, at: Date.parse(v.started_at ?? '') }))
      .sort((a, b) => a.at - b.at)
      .map((x) => (late.includes(x.id) ? 'L' : 'F'))
      .join('');
    // Round-robin between the two tenants: the late one's 4 jobs start among the first 10, not after
    // the flood's 16.
    assert.ok(order.lastIndexOf('L') < 10, `start order ${order}`);
    assert.equal(await redis.hlen(fairBacklogKey(model, 0)), 0, 'the fair queue is empty again');

    // Usage is written after each job ends; wait for every count to land.
    for (const [tenant, ids] of [
      ['flood', flood],
      ['late', late],
    ] as const) {
      const report = await waitFor(
        async () => {
          const res = await as(tenant).request('GET', '/v1/usage');
          assert.equal(res.status, 200, describe(res));
          const body = res.json as {
            tenant: string;
            totals: Record<string, number>;
            models: Record<string, Record<string, number>>;
          };
          return body.totals['completed'] === ids.length && body.models[model]?.['completed'] === ids.length
            ? body
            : undefined;
        },
        { timeoutMs: 15_000, what: `${tenant}'s usage to count ${ids.length} completed jobs` },
      );
      assert.equal(report.tenant, nameOf(tenant));
    }
  },
);
