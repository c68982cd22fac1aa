import assert from 'node:assert/strict';
import { E2eCluster, asJob, describe, generateJob, type HttpResponse } from '@hotpath/e2e-harness';

// Priorities: with one slot busy, high-priority jobs overtake a backlog of low-priority ones.

const cluster = new E2eCluster('prio');
const model = cluster.modelName('prio');

cluster.hooks({
  models: [
    cluster.serialSimModel(model, {
      // Per token: an 8-token job takes 40 ms.
      sim: { base_ms: 5 },
    }),
  ],
});

function ids(answers: HttpResponse[]): string[] {
  return answers.map((a) => {
    assert.equal(a.status, 202, describe(a));
    return asJob(a).id;
  });
}

cluster.test(
  '20 low then 5 high on a concurrency-1 worker: high ones finish before most low ones',
  async () => {
    const low = ids(
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          cluster.client.submit(generateJob(model, { prompt: `low ${i}`, priority: 'low' })),
        ),
      ),
    );
    const high = ids(
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          cluster.client.submit(generateJob(model, { prompt: `high ${i}`, priority: 'high' })),
        ),
      ),
    );
    const finished = async (list: string[]): Promise<number[]> =>
      Promise.all(
        list.map(async (id) => {
          const job = await cluster.client.waitForTerminal(id, 20_000);
          assert.equal(job.status, 'completed');
          assert.ok(job.finished_at);
          return Date.parse(job.finished_at);
        }),
      );
    const highDone = await finished(high);
    const lowDone = await finished(low);
    for (const [i, h] of highDone.entries()) {
      const lowAfter = lowDone.filter((l) => l > h).length;
      assert.ok(lowAfter >= 12, `high job ${i} finished before only ${lowAfter} of 20 low jobs`);
    }
    assert.ok(Math.max(...highDone) < Math.max(...lowDone), 'the last job to finish is a low one');
  },
);
