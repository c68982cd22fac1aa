import assert from 'node:assert/strict';
import {
  E2eCluster,
  asError,
  asJob,
  describe,
  fetchMetrics,
  generateJob,
  sampleValue,
  waitFor,
  type HotpathClient,
} from '@hotpath/e2e-harness';

// What an operator meets: model availability from worker heartbeats (503 model_unavailable,
// /readyz?model=, /v1/models), job listing per tenant and across tenants, metrics that keep
// client-requested waits apart from request duration.

const cluster = new E2eCluster('operator');
const served = cluster.modelName('srv');
const unserved = cluster.modelName('uns');
const queued = cluster.modelName('q0');
const SIM_MS = 300;
const keys = { alice: 'key-alice-e2e', bob: 'key-bob-e2e', admin: 'key-admin-e2e' };
let alice: HotpathClient;
let bob: HotpathClient;
let admin: HotpathClient;

cluster.hooks(
  {
    models: [
      cluster.simModel(served, { sim: { base_ms: SIM_MS }, cache: { enabled: false } }),
      // Only the first worker's WORKER_SHARDS leave these two out.
      cluster.simModel(unserved),
      cluster.simModel(queued, { queue_when_unserved: true }),
    ],
  },
  {
    start: async () => {
      const api = await cluster.startApi({
        env: {
          HOTPATH_API_KEYS: `alice:${keys.alice},bob:${keys.bob}`,
          HOTPATH_ADMIN_KEYS: `ops:${keys.admin}`,
        },
      });
      alice = api.client.withKey(keys.alice);
      bob = api.client.withKey(keys.bob);
      admin = api.client.withKey(keys.admin);
      await cluster.startWorker({ env: { WORKER_SHARDS: `${served}:*` }, waitReady: false });
      await waitFor(async () => (await alice.request('GET', `/readyz?model=${served}`)).status === 200, {
        timeoutMs: 30_000,
        what: 'the worker to announce itself',
      });
    },
  },
);

cluster.test(
  'a model no worker serves answers 503 model_unavailable at once; queue_when_unserved queues',
  async () => {
    const t0 = Date.now();
    const res = await alice.submit(generateJob(unserved, { prompt: 'anyone?' }), { preferWaitS: 5 });
    assert.equal(res.status, 503, describe(res));
    assert.equal(asError(res).code, 'model_unavailable');
    assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After is set');
    assert.ok(Date.now() - t0 < 4000, 'refused at once, not after the wait');

    const q = await alice.submit(generateJob(queued, { prompt: 'later' }));
    assert.equal(q.status, 202, describe(q));
    assert.equal(asJob(q).status, 'queued');

    const ready = await alice.request('GET', `/readyz?model=${unserved}`);
    assert.equal(ready.status, 503, describe(ready));
    assert.equal((ready.json as { error: { code: string } }).error.code, 'model_unavailable');
    assert.equal((await alice.request('GET', `/readyz?model=${served}`)).status, 200);
    assert.equal((await alice.request('GET', '/readyz?model=nope')).status, 404);
    assert.equal((await alice.request('GET', '/readyz')).status, 200, 'the API itself stays ready');

    const models = await alice.request('GET', '/v1/models');
    assert.equal(models.status, 200, describe(models));
    const data = (
      models.json as {
        data: { id: string; created: number; hotpath: { served: boolean; workers: number } }[];
      }
    ).data;
    const byId = new Map(data.map((m) => [m.id, m]));
    assert.equal(byId.get(served)?.hotpath.served, true);
    assert.equal(byId.get(served)?.hotpath.workers, 1);
    assert.equal(byId.get(unserved)?.hotpath.served, false);
    assert.ok((byId.get(served)?.created ?? 0) > 1_600_000_000, 'created is a real time');
  },
);

cluster.test(
  'jobs are listed per tenant, newest first, with a cursor; operators list across tenants',
  async () => {
    const ids: string[] = [];
    for (const prompt of ['one', 'two', 'three']) {
      const res = await alice.submit(generateJob(served, { prompt }));
      assert.equal(res.status, 202, describe(res));
      ids.push(asJob(res).id);
    }
    const bobs = asJob(await bob.submit(generateJob(served, { prompt: 'bob' }))).id;

    const page1 = await alice.request('GET', `/v1/jobs?model=${served}&limit=2`);
    assert.equal(page1.status, 200, describe(page1));
    const p1 = page1.json as { data: { id: string }[]; next_cursor: string | null; has_more: boolean };
    assert.deepEqual(
      p1.data.map((j) => j.id),
      [ids[2], ids[1]],
    );
    assert.ok(p1.next_cursor);
    const page2 = await alice.request(
      'GET',
      `/v1/jobs?model=${served}&limit=2&cursor=${encodeURIComponent(p1.next_cursor)}`,
    );
    const p2 = page2.json as { data: { id: string }[] };
    assert.equal(p2.data[0]?.id, ids[0]);
    assert.ok(!p2.data.some((j) => j.id === bobs), "another tenant's job never shows");

    await alice.waitForTerminal(ids[2] as string, 15_000);
    const done = await alice.request('GET', `/v1/jobs?status=completed&model=${served}`);
    assert.ok(
      (done.json as { data: { id: string; status: string }[] }).data.every((j) => j.status === 'completed'),
    );

    assert.equal((await alice.request('GET', '/v1/jobs?limit=1000')).status, 400, 'limit is bounded');
    assert.equal((await alice.request('GET', '/v1/jobs?cursor=bogus')).status, 400);

    assert.equal(
      (await alice.request('GET', '/v1/admin/jobs')).status,
      401,
      'tenant keys are not admin keys',
    );
    const all = await admin.request('GET', `/v1/admin/jobs?model=${served}&limit=100`);
    assert.equal(all.status, 200, describe(all));
    const listed = (all.json as { data: { id: string; tenant: string }[] }).data;
    assert.equal(listed.find((j) => j.id === bobs)?.tenant, 'bob');
    assert.equal(listed.find((j) => j.id === ids[0])?.tenant, 'alice');
  },
);

cluster.test(
  'request duration leaves out the wait a client asked for; job latency and build info are exported',
  async () => {
    const res = await alice.submit(generateJob(served, { prompt: 'wait for me' }), { preferWaitS: 10 });
    assert.equal(res.status, 200, describe(res));
    const text = await fetchMetrics(`${alice.baseUrl}/metrics`);
    const post = { route: '/v1/jobs', method: 'POST' };
    const waitSum = sampleValue(text, 'hotpath_http_client_wait_seconds_sum', post);
    assert.ok(waitSum >= (SIM_MS / 1000) * 0.8, `client wait holds the wait (${waitSum} s)`);
    // Every bucket from 0.25 s up counts the same requests: none of them took that long on its own.
    const bucket = (le: string): number =>
      sampleValue(text, 'hotpath_http_request_duration_seconds_bucket', { ...post, status: '200', le });
    assert.ok(bucket('+Inf') >= 1, 'the waited request is counted');
    assert.equal(bucket('0.25'), bucket('+Inf'), 'POST /v1/jobs with Prefer: wait is not a slow request');
    assert.match(text, /^hotpath_build_info\{[^}]*version="[^"]+"[^}]*\} 1$/m);
    assert.ok(
      sampleValue(text, 'hotpath_jobs_total', { model: served, stage: 'api', outcome: 'accepted' }) >= 1,
    );

    const worker = cluster.workerHandles()[0];
    assert.ok(worker);
    const wtext = await fetchMetrics(worker.metricsUrl);
    const m = { model: served };
    assert.ok(sampleValue(wtext, 'hotpath_jobs_total', { ...m, stage: 'worker', outcome: 'completed' }) >= 1);
    assert.ok(sampleValue(wtext, 'hotpath_job_duration_seconds_count', m) >= 1);
    assert.ok(sampleValue(wtext, 'hotpath_prompt_tokens_total', m) >= 1);
  },
);
