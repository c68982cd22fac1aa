import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ModelConfig } from '@hotpath/contracts';
import { SimBackend } from './backends/sim.backend';
import type { InferenceBackend } from './backends/inference-backend';
import { startWorker, type WorkerHandle } from './worker-app';
import { TestProducer, startTestWorker, testCluster, uniqueModel } from './testing/worker-test-kit';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('worker shutdown on real Redis', () => {
  const model = uniqueModel('hb');
  const clusterWith = (base_ms: number) =>
    testCluster([{ name: model, backend: 'sim', concurrency: 2, sim: { base_ms } }]);
  let producer: TestProducer;
  const open: WorkerHandle[] = [];

  before(async () => {
    producer = new TestProducer(REDIS_URL, clusterWith(0));
    await producer.ready();
  });

  after(async () => {
    await Promise.all(open.map((w) => w.close({ graceMs: 0 })));
    await producer?.close();
  });

  it('lets a running job finish within the grace period', async () => {
    // 60 ms per token: the 5-token job takes 300 ms.
    const worker = await startTestWorker(REDIS_URL, clusterWith(60));
    open.push(worker);
    const id = await producer.submit({ model, generate: { prompt: 'finish me', max_tokens: 5 } });
    await producer.waitForRecord(id, (r) => r.status === 'running');
    const t0 = Date.now();
    await worker.close({ graceMs: 5000 });
    assert.ok(Date.now() - t0 < 3000, 'close returned once the job was done');
    const rec = await producer.store.get(id);
    assert.equal(rec?.status, 'completed');
    assert.equal(rec?.attempts, 1);
  });

  it('hands a job that outlives the grace period back without consuming an attempt', async () => {
    const first = await startTestWorker(REDIS_URL, clusterWith(10_000));
    open.push(first);
    const id = await producer.submit({ model, generate: { prompt: 'hand me back', max_tokens: 20 } });
    await producer.waitForRecord(id, (r) => r.status === 'running');
    const t0 = Date.now();
    await first.close({ graceMs: 100 });
    assert.ok(Date.now() - t0 < 3000, `close took ${Date.now() - t0} ms`);

    const job = await producer.queues.queue(model, 0).getJob(id);
    assert.ok(job, 'job is still in BullMQ');
    const state = await job.getState();
    assert.ok(['delayed', 'waiting', 'prioritized'].includes(state), `state ${state}`);
    assert.equal(job.attemptsMade, 0);
    assert.equal((await producer.store.get(id))?.status, 'queued');

    const second = await startTestWorker(REDIS_URL, clusterWith(0));
    open.push(second);
    const rec = await producer.waitForTerminal(id, 10_000);
    assert.equal(rec?.status, 'completed');
    assert.equal(rec?.attempts, 1, 'the handed-back run did not count as an attempt');
    assert.ok(rec?.result && 'tokens' in rec.result && rec.result.tokens.length === 20);
  });
});

describe('worker retries on real Redis', () => {
  const model = uniqueModel('retry');
  const cluster = testCluster([{ name: model, backend: 'sim', concurrency: 4 }], {
    attempts: 3,
    backoff_ms: 20,
  });
  let producer: TestProducer;
  let worker: WorkerHandle;
  const calls = new Map<string, number>();

  /** A sim backend whose generate fails the first `failures` calls per prompt ("fail:N ..."). */
  class FlakyBackend extends SimBackend implements InferenceBackend {
    override async generate(...args: Parameters<SimBackend['generate']>): ReturnType<SimBackend['generate']> {
      const [job] = args;
      const n = (calls.get(job.id) ?? 0) + 1;
      calls.set(job.id, n);
      const failures = Number(/^fail:(\d+)/.exec(job.input.prompt)?.[1] ?? 0);
      if (n <= failures) throw new Error(`replica crashed (call ${n})`);
      return super.generate(...args);
    }
  }

  before(async () => {
    producer = new TestProducer(REDIS_URL, cluster);
    await producer.ready();
    worker = await startWorker({
      redis: REDIS_URL,
      cluster,
      shards: 'all',
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      workerId: `test-${randomUUID().slice(0, 8)}`,
      resultTtlS: 60,
      logLevel: 'error',
      backendFactory: (m: ModelConfig) => new FlakyBackend(m),
    });
  });

  after(async () => {
    await worker?.close({ graceMs: 0 });
    await producer?.close();
  });

  it('retries a failing attempt with backoff and completes', async () => {
    const id = await producer.submit({ model, generate: { prompt: 'fail:2 then work' } });
    const rec = await producer.waitForTerminal(id);
    assert.equal(rec?.status, 'completed');
    assert.equal(rec?.attempts, 3);
    assert.equal(calls.get(id), 3);
  });

  it('fails with inference_failed after the last attempt', async () => {
    const id = await producer.submit({ model, generate: { prompt: 'fail:9 always' } });
    const rec = await producer.waitForTerminal(id);
    assert.equal(rec?.status, 'failed');
    assert.equal(rec?.error?.code, 'inference_failed');
    assert.match(rec?.error?.message ?? '', /replica crashed/);
    assert.equal(calls.get(id), 3);
    const job = await producer.queues.queue(model, 0).getJob(id);
    assert.equal(await job?.getState(), 'failed');
  });
});
