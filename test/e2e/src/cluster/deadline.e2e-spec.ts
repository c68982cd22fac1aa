import assert from 'node:assert/strict';
import { E2eCluster, asJob, describe, generateJob, sleep } from '@hotpath/e2e-harness';

// deadline_ms: a job whose deadline passed while it waited fails with deadline_exceeded, unrun.

const cluster = new E2eCluster('deadline');
const model = cluster.modelName('dl');

cluster.hooks(
  { models: [cluster.simModel(model, { queue_when_unserved: true, sim: { base_ms: 20 } })] },
  { start: () => cluster.startApi() },
);

cluster.test('deadline_ms 200, no worker for 500 ms → failed with deadline_exceeded', async () => {
  const expired = await cluster.client.submit(generateJob(model, { prompt: 'too late', deadline_ms: 200 }));
  assert.equal(expired.status, 202, describe(expired));
  const relaxed = await cluster.client.submit(generateJob(model, { prompt: 'in time', deadline_ms: 60_000 }));
  assert.equal(relaxed.status, 202, describe(relaxed));
  // Elapsed time is the condition here: the deadline must pass while no worker runs.
  await sleep(500);
  await cluster.startWorker();

  const job = await cluster.client.waitForTerminal(asJob(expired).id, 10_000);
  assert.equal(job.status, 'failed', JSON.stringify(job));
  assert.equal(job.error?.code, 'deadline_exceeded', JSON.stringify(job));
  assert.equal(job.result, null);

  const ok = await cluster.client.waitForTerminal(asJob(relaxed).id, 10_000);
  assert.equal(ok.status, 'completed', JSON.stringify(ok));
});

cluster.test(
  'long-polls that run out answer the current state: GET ?wait=1 → 200 queued, Prefer: wait=1 → 202',
  async () => {
    // Runs after the test above, which started a worker: stop it so the job stays queued.
    for (const w of cluster.workerHandles()) await w.proc.stop();
    const t0 = Date.now();
    const res = await cluster.client.submit(generateJob(model, { prompt: 'nobody serves me' }), {
      preferWaitS: 1,
    });
    const preferMs = Date.now() - t0;
    assert.equal(res.status, 202, describe(res));
    assert.equal(asJob(res).status, 'queued');
    assert.ok(preferMs >= 900, `Prefer: wait=1 waited ${preferMs} ms`);

    const t1 = Date.now();
    const got = await cluster.client.getJob(asJob(res).id, 1);
    const getMs = Date.now() - t1;
    assert.equal(got.status, 200, describe(got));
    assert.equal(asJob(got).status, 'queued');
    assert.ok(getMs >= 900, `GET ?wait=1 waited ${getMs} ms`);
  },
);
