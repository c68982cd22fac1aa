import assert from 'node:assert/strict';
import { E2eCluster, asJob, describe, generateJob, waitFor, type WorkerHandle } from '@hotpath/e2e-harness';

// A worker SIGKILLed mid-job: its job's lock (or, for a job of the direct lane, its lease) expires,
// BullMQ's stalled check (the survivor's lease check, through BullMQ) hands the job to the
// surviving worker, and every accepted job still completes. Nothing is lost, nothing fails.

const cluster = new E2eCluster('crash');
const model = cluster.modelName('crash');
let w1: WorkerHandle;

cluster.hooks(
  {
    models: [
      cluster.serialSimModel(model, {
        // Per token: an 8-token job takes about 1.5 s.
        sim: { base_ms: 190 },
      }),
    ],
    queue: { attempts: 3, lock_duration_ms: 2000, stalled_interval_ms: 1000, max_stalled_count: 2 },
  },
  {
    start: async () => {
      [, w1] = await cluster.startApiAndWorker({ name: 'worker-1' });
      await cluster.startWorker({ name: 'worker-2' });
    },
  },
);
cluster.test(
  'SIGKILL a worker while it runs a job: every accepted job completes on the other one',
  async () => {
    const ids: string[] = [];
    const streams: Promise<string>[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await cluster.client.submit(generateJob(model, { prompt: `crash job ${i}` }));
      assert.equal(res.status, 202, describe(res));
      const id = asJob(res).id;
      ids.push(id);
      // Each job's native event stream, followed from the start to its end.
      streams.push(
        cluster.client.request('GET', `/v1/jobs/${id}/events`, { timeoutMs: 30_000 }).then((r) => r.text),
      );
    }
    // Concurrency 1 per worker and one shard: two running jobs means each worker holds one.
    const runningAtKill = await waitFor(
      async () => {
        const views = await Promise.all(ids.map(async (id) => asJob(await cluster.client.getJob(id))));
        const running = views.filter((v) => v.status === 'running').map((v) => v.id);
        return running.length >= 2 ? running : false;
      },
      { timeoutMs: 10_000, what: 'both workers running a job' },
    );
    const killedAt = Date.now();
    const exit = await w1.proc.kill();
    assert.equal(exit.signal, 'SIGKILL');

    const done = await Promise.all(ids.map((id) => cluster.client.waitForTerminal(id, 20_000)));
    for (const job of done) assert.equal(job.status, 'completed', JSON.stringify(job));

    // The killed worker's job was started again after the kill (by worker 2, the only one left).
    const restarted = done.filter(
      (j) => runningAtKill.includes(j.id) && j.started_at !== null && Date.parse(j.started_at) > killedAt,
    );
    assert.ok(
      restarted.length >= 1,
      `a job running at the kill was re-run: ${JSON.stringify(done.map((j) => [j.id, j.started_at, j.attempts]))}`,
    );
    // The re-run counts as an attempt, though BullMQ's own count (a stalled job) does not move.
    for (const j of restarted) assert.ok(j.attempts >= 2, `attempts of a re-run job: ${j.attempts}`);

    // The native stream resumes after a re-run: every token index once, in order, never repeated.
    for (const [i, text] of (await Promise.all(streams)).entries()) {
      const indexes = tokenIndexes(text);
      assert.deepEqual(
        indexes,
        indexes.map((_, k) => k),
        `job ${ids[i]} streamed token indexes ${indexes.join(',')}`,
      );
      assert.match(text, /event: done/);
    }
  },
);

/** The `index` of every `token` event of a native SSE body, in order. */
function tokenIndexes(sse: string): number[] {
  return sse
    .split('\n\n')
    .filter((block) => block.includes('event: token'))
    .map((block) => {
      const data = block.split('\n').find((l) => l.startsWith('data: '));
      return (JSON.parse(data?.slice(6) ?? '{}') as { index: number }).index;
    });
}
