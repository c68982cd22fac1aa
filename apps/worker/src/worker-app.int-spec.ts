import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { shardQueueName, shardQueueRef } from '@hotpath/contracts';
import {
  JOB_CANCEL_CHANNEL,
  JOB_EVENTS_CHANNEL,
  WorkerRegistry,
  createRedisConnection,
  jobOptions,
  laneKeys,
} from '@hotpath/queue';
import type { WorkerHandle } from './worker-app';
import {
  TestProducer,
  eventually,
  httpGet,
  sleep,
  startTestWorker,
  testCluster,
  uniqueModel,
} from './testing/worker-test-kit';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('worker on real Redis', () => {
  const fast = uniqueModel('fast');
  const prio = uniqueModel('prio');
  const slow = uniqueModel('slow');
  const cluster = testCluster([
    {
      name: fast,
      backend: 'sim',
      tasks: ['generate', 'embed'],
      shards: 2,
      concurrency: 4,
      default_max_tokens: 8,
    },
    // One 40 ms forward per job.
    { name: prio, backend: 'sim', concurrency: 1, default_max_tokens: 1, sim: { base_ms: 40 } },
    { name: slow, backend: 'sim', concurrency: 2, sim: { base_ms: 5000 } },
  ]);
  let worker: WorkerHandle;
  let producer: TestProducer;
  let events: Redis;

  before(async () => {
    producer = new TestProducer(REDIS_URL, cluster);
    await producer.ready();
    events = createRedisConnection(REDIS_URL, 'subscriber', 'test-events');
    await events.subscribe(JOB_EVENTS_CHANNEL);
    worker = await startTestWorker(REDIS_URL, cluster);
  });

  after(async () => {
    await worker?.close({ graceMs: 0 });
    await producer?.close();
    events?.disconnect();
  });

  it('serves every shard of every model', () => {
    assert.deepEqual(
      worker.queues.map((q) => q.name),
      [shardQueueName(fast, 0), shardQueueName(fast, 1), shardQueueName(prio, 0), shardQueueName(slow, 0)],
    );
  });

  it('completes a generate job with result, usage and timings', async () => {
    const id = await producer.submit({ model: fast, shard: 1, generate: { prompt: 'tell me a story' } });
    const rec = await producer.waitForTerminal(id);
    assert.equal(rec?.status, 'completed');
    assert.ok(rec?.result && 'tokens' in rec.result);
    assert.equal(rec.result.tokens.length, 8, 'default_max_tokens of the model');
    assert.equal(rec.result.finish_reason, 'length');
    assert.ok(rec.result.text.length > 0);
    assert.deepEqual(rec.usage, { prompt_tokens: 4, completion_tokens: 8 });
    assert.equal(rec.attempts, 1);
    for (const k of ['queue', 'batch_wait', 'inference', 'total'] as const) {
      assert.equal(typeof rec.timings[k], 'number', `timings.${k}`);
    }
    assert.ok((rec.timings.total ?? 0) >= (rec.timings.queue ?? 0));
  });

  it('runs a job from the direct lane, woken by its channel, and leaves nothing behind', async () => {
    const id = await producer.submit({ model: fast, shard: 1, lane: true, generate: { prompt: 'lane' } });
    const rec = await producer.waitForTerminal(id);
    assert.equal(rec?.status, 'completed');
    assert.equal(rec.attempts, 1);
    const k = laneKeys(fast, 1);
    await eventually(
      async () => (await producer.redis.zcard(k.leased)) + (await producer.redis.hlen(k.data)) === 0,
      5000,
      'the lease released',
    );
    assert.equal(await producer.queues.queue(fast, 1).getJob(id), undefined, 'BullMQ never held it');
  });

  it('completes an embed job', async () => {
    const id = await producer.submit({ model: fast, embed: { texts: ['one two', 'three'] } });
    const rec = await producer.waitForTerminal(id);
    assert.equal(rec?.status, 'completed');
    assert.ok(rec?.result && 'embeddings' in rec.result);
    assert.equal(rec.result.embeddings.length, 2);
    assert.equal(rec.result.embeddings[0]?.length, 8);
    assert.deepEqual(rec.usage, { prompt_tokens: 3, completion_tokens: 0 });
  });

  it('fails a job past its deadline with deadline_exceeded, never running it', async () => {
    const id = await producer.submit({
      model: fast,
      deadlineAt: Date.now() - 1,
      generate: { prompt: 'late' },
    });
    const rec = await producer.waitForTerminal(id);
    assert.equal(rec?.status, 'failed');
    assert.equal(rec?.error?.code, 'deadline_exceeded');
    assert.equal(rec?.attempts, 0);
    assert.equal(rec?.startedAt, null);
    assert.equal(rec?.result, null);
  });

  it('fails a job whose deadline passes while it runs', async () => {
    const t0 = Date.now();
    const id = await producer.submit({ model: slow, deadlineAt: t0 + 300, generate: { prompt: 'too slow' } });
    const rec = await producer.waitForTerminal(id, 5000);
    assert.equal(rec?.status, 'failed');
    assert.equal(rec?.error?.code, 'deadline_exceeded');
    assert.equal(rec?.attempts, 1);
    assert.ok(Date.now() - t0 < 2000, 'stopped at the deadline, not after the 5 s latency');
  });

  it('fails a poison payload with invalid_input after exactly one attempt', async () => {
    const id = randomUUID();
    await producer.store.create({
      id,
      tenant: 'test',
      model: fast,
      task: 'generate',
      priority: 'normal',
      shard: 0,
      createdAt: Date.now(),
    });
    const ref = shardQueueRef(fast, 0);
    const raw = new Queue(ref.name, { connection: producer.redis, prefix: ref.prefix });
    try {
      await raw.add(
        'generate',
        { id, task: 'generate', bogus: true },
        jobOptions(id, 'normal', { attempts: 3, backoff_ms: 10 }),
      );
      const rec = await producer.waitForTerminal(id);
      assert.equal(rec?.status, 'failed');
      assert.equal(rec?.error?.code, 'invalid_input');
      await eventually(async () => (await raw.getJob(id))?.finishedOn !== undefined, 5000, 'bullmq failure');
      const job = await raw.getJob(id);
      assert.equal(await job?.getState(), 'failed');
      assert.equal(job?.attemptsMade, 1);
    } finally {
      await raw.close();
    }
  });

  it('runs high-priority jobs before earlier low-priority ones', async () => {
    const order: string[] = [];
    const onMessage = (_channel: string, message: string): void => {
      order.push(message.split(' ')[0] ?? '');
    };
    events.on('message', onMessage);
    try {
      // Each group is submitted at once so the lows cannot drain while the highs are still arriving.
      const low = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          producer.submit({ model: prio, priority: 'low', generate: { prompt: `low ${i}` } }),
        ),
      );
      const high = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          producer.submit({ model: prio, priority: 'high', generate: { prompt: `high ${i}` } }),
        ),
      );
      await eventually(
        () => [...low, ...high].every((id) => order.includes(id)),
        10_000,
        'all jobs finished',
      );
      const lastHigh = Math.max(...high.map((id) => order.indexOf(id)));
      const lowsBefore = low.filter((id) => order.indexOf(id) < lastHigh).length;
      assert.ok(
        lowsBefore <= 2,
        `${lowsBefore} low jobs finished before the last high one: ${order.join(',')}`,
      );
    } finally {
      events.off('message', onMessage);
    }
  });

  it('stops a running job on cancellation and keeps it cancelled', async () => {
    const id = await producer.submit({ model: slow, generate: { prompt: 'a long story', max_tokens: 50 } });
    await producer.waitForRecord(id, (r) => r.status === 'running');
    await sleep(150);
    const cancelledAt = Date.now();
    const cancel = await producer.store.cancel(id);
    assert.equal(cancel.applied, true);
    await producer.redis.publish(JOB_CANCEL_CHANNEL, id);
    const q = producer.queues.queue(slow, 0);
    // removeOnComplete: the BullMQ job disappears once the worker lets it go.
    await eventually(async () => (await q.getJob(id)) === undefined, 3000, 'job released');
    assert.ok(Date.now() - cancelledAt < 2000, 'stopped long before its 5 s latency');
    await sleep(100);
    const rec = await producer.store.get(id);
    assert.equal(rec?.status, 'cancelled');
    assert.equal(rec?.error?.code, 'cancelled');
    assert.equal(worker.activeJobs(), 0);
  });

  it('answers /readyz 200 only once its heartbeat is in Redis, so the API routes jobs to it', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as AddressInfo;
        s.close(() => resolve(p));
      });
    });
    const workerId = `test-ready-${randomUUID().slice(0, 8)}`;
    const starting = startTestWorker(REDIS_URL, cluster, { metricsPort: port, workerId });
    starting.catch(() => undefined);
    // Poll through the whole start-up: the first 200 must find the heartbeat already written.
    let registeredAtFirstReady: boolean | undefined;
    for (const until = Date.now() + 30_000; registeredAtFirstReady === undefined && Date.now() < until;) {
      const ready = await httpGet(port, '/readyz').catch(() => undefined);
      if (ready?.status === 200) {
        const workers = await new WorkerRegistry(producer.redis).list();
        registeredAtFirstReady = workers.some((w) => w.worker_id === workerId && w.alive);
      } else await sleep(2);
    }
    const second = await starting;
    try {
      assert.equal(registeredAtFirstReady, true, 'ready before the API could see the worker');
      assert.equal(second.readiness().checks['registered'], true);
    } finally {
      await second.close({ graceMs: 0 });
    }
  });

  it('answers /metrics, /healthz and /readyz', async () => {
    const ready = await httpGet(worker.metricsPort, '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(JSON.parse(ready.body).status, 'ready');
    assert.equal((await httpGet(worker.metricsPort, '/healthz')).status, 200);
    assert.equal((await httpGet(worker.metricsPort, '/nope')).status, 404);
    await eventually(
      async () =>
        (await httpGet(worker.metricsPort, '/metrics')).body.includes(`hotpath_queue_depth{model="${fast}"`),
      3000,
      'queue depth sample',
    );
    const { status, body } = await httpGet(worker.metricsPort, '/metrics');
    assert.equal(status, 200);
    const positive = (name: string, labels: Record<string, string>): void => {
      const v = sampleValue(body, name, labels);
      assert.ok(v !== undefined && v > 0, `${name} ${JSON.stringify(labels)} = ${v}`);
    };
    positive('hotpath_jobs_total', { model: fast, task: 'generate', outcome: 'completed' });
    positive('hotpath_jobs_total', { model: fast, task: 'generate', outcome: 'deadline_exceeded' });
    positive('hotpath_jobs_total', { model: slow, task: 'generate', outcome: 'cancelled' });
    positive('hotpath_tokens_generated_total', { model: fast });
    positive('hotpath_time_to_first_token_seconds_count', { model: fast });
    positive('hotpath_inter_token_latency_seconds_count', { model: fast });
    positive('hotpath_queue_wait_seconds_count', { model: fast });
    positive('hotpath_inference_duration_seconds_count', { model: fast });
    positive('hotpath_batch_size_count', { model: fast });
    assert.equal(sampleValue(body, 'hotpath_queue_depth', { model: fast, shard: '1', state: 'waiting' }), 0);
  });
});

/** The value of the first sample of `name` carrying all `labels` (in any order) in Prometheus text. */
function sampleValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const labelText = line.slice(name.length + 1, close);
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) {
      return Number(line.slice(close + 1).trim());
    }
  }
  return undefined;
}
