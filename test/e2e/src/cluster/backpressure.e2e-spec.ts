import assert from 'node:assert/strict';
import { E2eCluster, asError, asJob, describe, generateJob, waitFor } from '@hotpath/e2e-harness';

// Backpressure: beyond a model's max_waiting, submissions get 429 queue_full with Retry-After.

const cluster = new E2eCluster('backpressure');
const model = cluster.modelName('bp');

cluster.hooks(
  {
    models: [
      cluster.simModel(model, { shards: 2, max_waiting: 5, queue_when_unserved: true, sim: { base_ms: 10 } }),
    ],
  },
  { start: () => cluster.startApi() },
);

cluster.test(
  'max_waiting 5, no worker: 5 queued, the 6th → 429 queue_full + Retry-After; a worker drains it',
  async () => {
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await cluster.client.submit(generateJob(model, { prompt: `fill ${i}` }));
      assert.equal(res.status, 202, `submission ${i + 1}: ${describe(res)}`);
      accepted.push(asJob(res).id);
    }
    const full = await cluster.client.submit(generateJob(model, { prompt: 'one too many' }));
    assert.equal(full.status, 429, describe(full));
    assert.equal(asError(full).code, 'queue_full');
    const retryAfter = full.headers.get('retry-after');
    assert.ok(
      retryAfter && /^\d+$/.test(retryAfter) && Number(retryAfter) >= 1,
      `Retry-After: ${retryAfter}`,
    );

    await cluster.startWorker();
    for (const id of accepted) {
      assert.equal((await cluster.client.waitForTerminal(id, 10_000)).status, 'completed');
    }
    // Once drained, submissions are accepted again.
    const again = await waitFor(
      async () => {
        const res = await cluster.client.submit(generateJob(model, { prompt: 'after drain' }));
        return res.status === 202 ? res : false;
      },
      { timeoutMs: 5_000, intervalMs: 200, what: '202 after the queue drained' },
    );
    assert.equal((await cluster.client.waitForTerminal(asJob(again).id, 10_000)).status, 'completed');
  },
);
