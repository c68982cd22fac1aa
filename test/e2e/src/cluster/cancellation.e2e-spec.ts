import assert from 'node:assert/strict';
import { E2eCluster, asJob, describe, generateJob, sleep } from '@hotpath/e2e-harness';

// DELETE /v1/jobs/{id}: a queued job is removed and never runs; a running job ends cancelled.

const cluster = new E2eCluster('cancel');
const quick = cluster.modelName('quick');
const slow = cluster.modelName('slow');

cluster.hooks(
  {
    models: [
      cluster.simModel(quick, { concurrency: 1, queue_when_unserved: true, sim: { base_ms: 20 } }),
      cluster.simModel(slow, { concurrency: 1, batching: { enabled: false }, sim: { base_ms: 20_000 } }),
    ],
  },
  // No worker yet: the first test needs jobs to stay queued.
  { start: () => cluster.startApi() },
);

cluster.test('a queued job → DELETE → cancelled, and it never runs once a worker is up', async () => {
  const res = await cluster.client.submit(generateJob(quick, { prompt: 'cancel me while queued' }));
  assert.equal(res.status, 202, describe(res));
  const id = asJob(res).id;

  const del = await cluster.client.cancel(id);
  assert.ok(del.status >= 200 && del.status < 300, describe(del));
  if (del.json !== undefined) assert.equal(asJob(del).status, 'cancelled', describe(del));

  await cluster.startWorker();
  // A job submitted after the cancelled one completing proves the worker has drained the queue.
  const later = await cluster.client.submit(generateJob(quick, { prompt: 'runs after' }), {
    preferWaitS: 10,
  });
  assert.equal(later.status, 200, describe(later));
  assert.equal(asJob(later).status, 'completed');

  const after = await cluster.client.getJob(id);
  assert.equal(after.status, 200, describe(after));
  const job = asJob(after);
  assert.equal(job.status, 'cancelled', describe(after));
  assert.equal(job.started_at, null, `a cancelled queued job never starts: ${describe(after)}`);
  assert.equal(job.result, null, describe(after));
});

cluster.test('a running long job → DELETE → cancelled, and the worker slot frees up', async () => {
  // started by the previous test; start one when this test runs alone
  if ((await cluster.workerCounts()).some((n) => n === 0)) await cluster.startWorker();
  const res = await cluster.client.submit(generateJob(slow, { prompt: 'a very long job' }));
  assert.equal(res.status, 202, describe(res));
  const id = asJob(res).id;
  await cluster.client.waitForStatus(id, ['running'], 10_000);

  const del = await cluster.client.cancel(id);
  assert.ok(del.status >= 200 && del.status < 300, describe(del));
  const job = await cluster.client.waitForTerminal(id, 5_000);
  assert.equal(job.status, 'cancelled');

  // concurrency 1: the next job of the model can only run once the cancelled one let go.
  const t0 = Date.now();
  const next = await cluster.client.submit(generateJob(slow, { prompt: 'next' }));
  assert.equal(next.status, 202, describe(next));
  await cluster.client.waitForStatus(asJob(next).id, ['running'], 8_000);
  assert.ok(Date.now() - t0 < 8_000, 'the cancelled job stopped well before its 20 s run');
  await cluster.client.cancel(asJob(next).id);

  // The cancelled status is final: the worker never overwrites it.
  await sleep(300);
  assert.equal(asJob(await cluster.client.getJob(id)).status, 'cancelled');
});
