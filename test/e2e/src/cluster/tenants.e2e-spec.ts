import assert from 'node:assert/strict';
import { E2eCluster, asError, asJob, describe, generateJob } from '@hotpath/e2e-harness';

// Tenants: API keys authenticate; a tenant never sees or touches another tenant's jobs.

const cluster = new E2eCluster('tenants');
const model = cluster.modelName('ten');
const KEY_A = 'key-a-123456';
const KEY_B = 'key-b-123456';

cluster.hooks(
  { models: [cluster.simModel(model, { sim: { base_ms: 20 } })] },
  {
    start: () =>
      Promise.all([
        cluster.startApi({ env: { HOTPATH_API_KEYS: `a:${KEY_A},b:${KEY_B}` } }),
        cluster.startWorker(),
      ]),
  },
);

cluster.test('no key or a wrong key → 401 unauthorized', async () => {
  const none = await cluster.client.withKey(undefined).submit(generateJob(model));
  assert.equal(none.status, 401, describe(none));
  assert.equal(asError(none).code, 'unauthorized');
  const wrong = await cluster.client.withKey('key-c-nope-nope').submit(generateJob(model));
  assert.equal(wrong.status, 401, describe(wrong));
  assert.equal(asError(wrong).code, 'unauthorized');
  const noKeyGet = await cluster.client.withKey(undefined).getJob('00000000-0000-4000-8000-000000000000');
  assert.equal(noKeyGet.status, 401, describe(noKeyGet));
});

cluster.test("tenant b cannot GET or DELETE tenant a's job (404); a still can", async () => {
  const a = cluster.client.withKey(KEY_A);
  const b = cluster.client.withKey(KEY_B);
  const res = await a.submit(generateJob(model, { prompt: 'tenant a secret' }));
  assert.equal(res.status, 202, describe(res));
  const id = asJob(res).id;

  const bGet = await b.getJob(id);
  assert.equal(bGet.status, 404, describe(bGet));
  assert.equal(asError(bGet).code, 'not_found');
  assert.ok(!bGet.text.includes('tenant a secret'));
  const bDel = await b.cancel(id);
  assert.equal(bDel.status, 404, describe(bDel));
  assert.equal(asError(bDel).code, 'not_found');

  const done = await a.waitForTerminal(id, 10_000);
  assert.equal(done.status, 'completed', "b's DELETE did not cancel a's job");
});

cluster.test('Idempotency-Key is per tenant: the same key from a and b makes two jobs', async () => {
  const a = cluster.client.withKey(KEY_A);
  const b = cluster.client.withKey(KEY_B);
  const body = generateJob(model, { prompt: 'same key, two tenants' });
  const ra = await a.submit(body, { idempotencyKey: 'shared-key-1' });
  const rb = await b.submit(body, { idempotencyKey: 'shared-key-1' });
  assert.equal(ra.status, 202, describe(ra));
  assert.equal(rb.status, 202, describe(rb));
  assert.notEqual(asJob(ra).id, asJob(rb).id);
});
