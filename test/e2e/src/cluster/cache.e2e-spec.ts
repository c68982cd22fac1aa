import assert from 'node:assert/strict';
import {
  E2eCluster,
  asJob,
  describe,
  fetchMetrics,
  generateJob as bypassingJob,
  waitFor,
  type ApiHandle,
  type WorkerHandle,
} from '@hotpath/e2e-harness';

/** The harness's jobs bypass the cache so other suites stay independent; these use it. */
const generateJob = (model: string, extra: Parameters<typeof bypassingJob>[1] = {}) =>
  bypassingJob(model, { cache: 'default', ...extra });

// The result cache through real processes: hit/miss/bypass/refresh, no caching of unseeded
// sampling, tenant scoping, model-version invalidation, and single-flight across two API processes.

const cluster = new E2eCluster('cache');
const model = cluster.modelName('cached');
const KEYS = { a: 'key-a-1234567890', b: 'key-b-1234567890' };
let api1: ApiHandle;
let api2: ApiHandle;
let worker: WorkerHandle;

cluster.hooks(
  {
    models: [
      cluster.simModel(model, {
        tasks: ['generate', 'embed'],
        concurrency: 64,
        // Per forward: an 8-token generation takes 400 ms.
        sim: { base_ms: 50, per_item_ms: 0, embedding_dim: 8 },
        cache: { enabled: true, ttl_s: 60, max_entries: 1000, scope: 'tenant' },
      }),
    ],
  },
  {
    start: async () => {
      const env = { HOTPATH_API_KEYS: `a:${KEYS.a},b:${KEYS.b}` };
      [api1, api2, worker] = await Promise.all([
        cluster.startApi({ env }),
        cluster.startApi({ env }),
        cluster.startWorker(),
      ]);
    },
  },
);

/** Completed executions of the model counted by the worker itself. */
async function executions(): Promise<number> {
  const text = await fetchMetrics(worker.metricsUrl);
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('hotpath_jobs_total{') &&
        l.includes(`model="${model}"`) &&
        l.includes('outcome="completed"'),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

cluster.test('a repeat is a hit: 200, cached, same result, no model execution', async () => {
  const a = api1.client.withKey(KEYS.a);
  const job = generateJob(model, { prompt: 'cache me once' });
  const base = await executions();
  const first = await a.submit(job, { preferWaitS: 10 });
  assert.equal(first.status, 200, describe(first));
  assert.equal(first.headers.get('x-cache'), 'miss');
  // The worker counts an execution just after the record the client already sees turns completed.
  await waitFor(async () => (await executions()) === base + 1 || undefined, {
    timeoutMs: 5000,
    what: 'the first execution counted by the worker',
  });
  const second = await a.submit(job);
  assert.equal(second.status, 200, describe(second));
  assert.equal(second.headers.get('x-cache'), 'hit');
  const hit = asJob(second);
  assert.equal(hit.cached, true);
  assert.equal(hit.status, 'completed');
  assert.deepEqual(hit.result, asJob(first).result);
  assert.notEqual(hit.id, asJob(first).id, 'a hit is its own job record');
  assert.equal((await a.getJob(hit.id)).status, 200, 'the hit is readable like any job');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await executions(), base + 1, 'the hit never reached the model');
});

cluster.test('a repeat sent the moment the first answer arrives is a hit, every time', async () => {
  // The worker fills the entry before the record turns completed; filling it after left a window in
  // which the repeat followed the landing flight (`coalesced`) instead of hitting.
  const a = api1.client.withKey(KEYS.a);
  for (let i = 0; i < 12; i++) {
    const job = generateJob(model, { prompt: `answered then repeated ${i}`, params: { max_tokens: 1 } });
    const first = await a.submit(job, { preferWaitS: 10 });
    assert.equal(first.headers.get('x-cache'), 'miss', describe(first));
    assert.equal(asJob(first).status, 'completed', describe(first));
    const repeat = await a.submit(job);
    assert.equal(repeat.headers.get('x-cache'), 'hit', `repeat ${i}: ${describe(repeat)}`);
  }
});

cluster.test('bypass runs the model and refresh recomputes and overwrites', async () => {
  const a = api1.client.withKey(KEYS.a);
  const job = generateJob(model, { prompt: 'bypass and refresh' });
  assert.equal((await a.submit(job, { preferWaitS: 10 })).headers.get('x-cache'), 'miss');
  const bypass = await a.submit({ ...job, cache: 'bypass' }, { preferWaitS: 10 });
  assert.equal(bypass.headers.get('x-cache'), 'bypass');
  assert.equal(asJob(bypass).cached, false);
  const refresh = await a.submit({ ...job, cache: 'refresh' }, { preferWaitS: 10 });
  assert.equal(refresh.headers.get('x-cache'), 'miss');
  assert.equal(asJob(refresh).status, 'completed');
  assert.equal((await a.submit(job)).headers.get('x-cache'), 'hit');
});

cluster.test('sampling without a seed is never cached; with a seed it is', async () => {
  const a = api1.client.withKey(KEYS.a);
  const unseeded = generateJob(model, { prompt: 'random please', params: { temperature: 0.9 } });
  for (let i = 0; i < 2; i++) {
    const r = await a.submit(unseeded, { preferWaitS: 10 });
    assert.equal(r.headers.get('x-cache'), 'bypass', describe(r));
  }
  const seeded = generateJob(model, { prompt: 'random please', params: { temperature: 0.9, seed: 42 } });
  assert.equal((await a.submit(seeded, { preferWaitS: 10 })).headers.get('x-cache'), 'miss');
  assert.equal((await a.submit(seeded)).headers.get('x-cache'), 'hit');
});

cluster.test('entries are scoped per tenant', async () => {
  const job = generateJob(model, { prompt: 'tenant scoped' });
  assert.equal(
    (await api1.client.withKey(KEYS.a).submit(job, { preferWaitS: 10 })).headers.get('x-cache'),
    'miss',
  );
  assert.equal((await api1.client.withKey(KEYS.a).submit(job)).headers.get('x-cache'), 'hit');
  const b = await api1.client.withKey(KEYS.b).submit(job, { preferWaitS: 10 });
  assert.equal(b.headers.get('x-cache'), 'miss', 'tenant b never sees tenant a’s entry');
});

cluster.test('a new model version never serves the old version’s entries', async () => {
  const a = api1.client.withKey(KEYS.a);
  const job = generateJob(model, { prompt: 'versioned' });
  assert.equal((await a.submit(job, { preferWaitS: 10 })).headers.get('x-cache'), 'miss');
  assert.equal((await a.submit(job)).headers.get('x-cache'), 'hit');
  // What a worker does when it loads a new version of the model: publish its digest.
  const redis = await cluster.redisClient();
  const key = `hp:model:{m:${model}}:digest`;
  const old = await redis.get(key);
  try {
    await redis.set(key, 'sha256:new-version');
    await new Promise((r) => setTimeout(r, 2200)); // the API memoises digests for 2 s
    const after = await a.submit(job);
    assert.notEqual(after.headers.get('x-cache'), 'hit', describe(after));
  } finally {
    if (old) await redis.set(key, old);
    redis.disconnect();
  }
  await new Promise((r) => setTimeout(r, 2200));
});

cluster.test(
  '50 identical concurrent requests over two API processes share one job and one execution',
  async () => {
    const job = generateJob(model, { prompt: 'thundering herd' });
    const before = await executions();
    const clients = [api1.client.withKey(KEYS.a), api2.client.withKey(KEYS.a)];
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => clients[i % 2]!.submit(job)));
    const outcomes = responses.map((r) => r.headers.get('x-cache'));
    // Requests handled after the leader's job finished are cache hits (born-completed jobs of their
    // own) on a slow machine or a Redis Cluster, and a request may coalesce onto such a hit while it
    // briefly leads the flight; every other one shares the leader's job, which ran the model.
    const shared = responses.filter((r) => !asJob(r).cached);
    const ids = new Set(shared.map((r) => asJob(r).id));
    assert.equal(ids.size, 1, `one job for all: ${[...ids].join(', ')} (x-cache: ${outcomes.join(',')})`);
    assert.equal(outcomes.filter((o) => o === 'miss').length, 1, outcomes.join(','));
    assert.equal(outcomes.filter((o) => o === 'coalesced' || o === 'hit').length, 49);
    const id = [...ids][0]!;
    const done = await clients[1]!.getJob(id, 10);
    assert.equal(asJob(done).status, 'completed', describe(done));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await executions()) - before, 1, 'exactly one model execution');
    assert.equal((await clients[0]!.submit(job)).headers.get('x-cache'), 'hit');
  },
  { timeout: 60_000 },
);
