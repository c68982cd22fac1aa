import assert from 'node:assert/strict';
import {
  E2eCluster,
  asJob,
  describe,
  generateJob,
  waitFor,
  type ModelConfigInput,
  type WorkerHandle,
} from '@hotpath/e2e-harness';

// SIGTERM drain: in-flight jobs get queue.shutdown_grace_ms to finish; those that cannot are handed
// back to the queue and finished by another worker. The worker exits 0. Nothing is lost.

const GRACE_MS = 1500;
const cluster = new E2eCluster('drain');
const fast = cluster.modelName('fast');
const slow = cluster.modelName('slow');
let w1: WorkerHandle;
let exitAfterTermMs: number | undefined;

/** A sim model of two replicas of two slots each, one job per slot. */
const drainModel = (name: string, baseMs: number): ModelConfigInput =>
  cluster.simModel(name, {
    concurrency: 2,
    replicas: 2,
    batching: { enabled: false },
    sim: { base_ms: baseMs },
  });

cluster.hooks(
  {
    // Per token: 8 tokens take about 0.5 s (fast) and 8 s (slow).
    models: [drainModel(fast, 60), drainModel(slow, 1000)],
    queue: { lock_duration_ms: 2000, stalled_interval_ms: 1000, shutdown_grace_ms: GRACE_MS },
  },
  {
    start: async () => {
      [, w1] = await cluster.startApiAndWorker({ name: 'worker-1' });
    },
  },
);

async function submit(model: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await cluster.client.submit(generateJob(model, { prompt: `${model} drain ${i}` }));
    assert.equal(res.status, 202, describe(res));
    ids.push(asJob(res).id);
  }
  return ids;
}

cluster.test(
  'SIGTERM with jobs in flight: short ones finish, long ones are handed back, exit 0',
  async () => {
    const fastIds = await submit(fast, 2);
    const slowIds = await submit(slow, 2);
    await waitFor(
      async () => {
        const views = await Promise.all(
          [...fastIds, ...slowIds].map(async (id) => asJob(await cluster.client.getJob(id))),
        );
        return views.every((v) => v.status === 'running');
      },
      { timeoutMs: 10_000, what: 'all four jobs running on worker-1' },
    );

    const termAt = Date.now();
    w1.proc.signal('SIGTERM');
    const exit = await w1.proc.waitForExit(GRACE_MS + 10_000);
    const exitedAt = Date.now();
    exitAfterTermMs = exitedAt - termAt;
    assert.ok(exit, `worker-1 still running ${GRACE_MS + 10_000} ms after SIGTERM`);
    assert.equal(exit.code, 0, `worker-1 exit: ${JSON.stringify(exit)}`);

    // The short jobs finished inside the grace period, on worker-1.
    for (const id of fastIds) {
      const job = asJob(await cluster.client.getJob(id));
      assert.equal(job.status, 'completed', `fast job after drain: ${JSON.stringify(job)}`);
    }
    // The long ones were not failed or lost: they wait for another worker.
    for (const id of slowIds) {
      const job = asJob(await cluster.client.getJob(id));
      assert.ok(['queued', 'running'].includes(job.status), `slow job after drain: ${JSON.stringify(job)}`);
    }

    await cluster.startWorker({ name: 'worker-2' });
    const done = await Promise.all(slowIds.map((id) => cluster.client.waitForTerminal(id, 20_000)));
    for (const job of done) {
      assert.equal(job.status, 'completed', JSON.stringify(job));
      assert.ok(job.finished_at && Date.parse(job.finished_at) > exitedAt, 'finished by worker-2');
    }
  },
  { timeout: 45_000 },
);

// Separate from the flow above so that the hand-back is verified on its own. Handing back means the
// long jobs are abandoned: the worker must not sit on them until they would have ended anyway.
cluster.test(
  'the draining worker exits within shutdown_grace_ms + 3 s, not when its abandoned jobs end',
  async () => {
    assert.ok(exitAfterTermMs !== undefined, 'the SIGTERM test above ran');
    assert.ok(
      exitAfterTermMs < GRACE_MS + 3000,
      `worker-1 exited ${exitAfterTermMs} ms after SIGTERM; expected within grace (${GRACE_MS} ms) + 3 s`,
    );
  },
);
