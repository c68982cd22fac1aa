import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { E2eCluster, asError, asJob, describe, generateJob } from '@hotpath/e2e-harness';

// Idempotency-Key: the same key and body return the same job; the same key with another body is 409.

const cluster = new E2eCluster('idem');
const model = cluster.modelName('idem');

cluster.hooks({ models: [cluster.simModel(model, { sim: { base_ms: 20 } })] });

cluster.test('same key + same body twice → the same job id, and it runs once', async () => {
  const key = `idem-${randomUUID()}`;
  const body = generateJob(model, { prompt: 'idempotent request' });
  const first = await cluster.client.submit(body, { idempotencyKey: key });
  assert.equal(first.status, 202, describe(first));
  const second = await cluster.client.submit(body, { idempotencyKey: key });
  assert.ok([200, 202].includes(second.status), describe(second));
  assert.equal(asJob(second).id, asJob(first).id);

  const done = await cluster.client.waitForTerminal(asJob(first).id, 10_000);
  assert.equal(done.status, 'completed');
  // After completion the key still maps to the same, finished job.
  const third = await cluster.client.submit(body, { idempotencyKey: key });
  assert.ok([200, 202].includes(third.status), describe(third));
  assert.equal(asJob(third).id, done.id);
});

cluster.test('concurrent submissions with one key → one job', async () => {
  const key = `idem-${randomUUID()}`;
  const body = generateJob(model, { prompt: 'raced request' });
  const answers = await Promise.all(
    Array.from({ length: 5 }, () => cluster.client.submit(body, { idempotencyKey: key })),
  );
  for (const a of answers) assert.ok([200, 202].includes(a.status), describe(a));
  const ids = new Set(answers.map((a) => asJob(a).id));
  assert.equal(ids.size, 1, `one job id for one key, got ${[...ids].join(', ')}`);
});

cluster.test('same key + different body → 409 conflict', async () => {
  const key = `idem-${randomUUID()}`;
  const first = await cluster.client.submit(generateJob(model, { prompt: 'body one' }), {
    idempotencyKey: key,
  });
  assert.equal(first.status, 202, describe(first));
  const other = await cluster.client.submit(generateJob(model, { prompt: 'body two' }), {
    idempotencyKey: key,
  });
  assert.equal(other.status, 409, describe(other));
  assert.equal(asError(other).code, 'conflict');
});
