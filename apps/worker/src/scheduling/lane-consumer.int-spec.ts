import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DelayedError, UnrecoverableError } from 'bullmq';
import type { QueuedJob } from '@hotpath/contracts';
import {
  ShardLane,
  ShardQueues,
  createRedisConnection,
  laneKeys,
  waitForRedis,
  type RedisClient,
} from '@hotpath/queue';
import { createLogger } from '@hotpath/telemetry';
import type { QueueJob } from '../jobs/job-runner';
import { eventually, uniqueModel } from '../testing/worker-test-kit';
import { LaneConsumer } from './lane-consumer';
import { LaneTally } from './lane-tally';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const RETRY = { attempts: 3, backoff_ms: 5000 };

function job(model: string): QueuedJob {
  return {
    id: randomUUID(),
    tenant: 't',
    model,
    shard: 0,
    priority: 'normal',
    task: 'generate',
    input: { prompt: 'p' },
    params: {},
    deadline_at: null,
    enqueued_at: Date.now(),
  };
}

// The lane consumer against a real Redis, with the shard's processor replaced by a function that
// settles each job as the test says (the job runner behind it has its own tests).
describe('LaneConsumer on real Redis', () => {
  let redis: RedisClient;
  let lane: ShardLane;
  let queues: ShardQueues;
  const logger = createLogger('lane-test', 'error');
  const consumers: LaneConsumer[] = [];

  before(async () => {
    redis = createRedisConnection(REDIS_URL, 'producer', 'lane-consumer-test');
    await waitForRedis(redis, 5000);
    lane = new ShardLane(redis);
    queues = new ShardQueues(redis);
  });
  after(async () => {
    consumers.forEach((c) => c.close());
    await queues.close();
    redis.disconnect();
  });

  function consumer(
    model: string,
    process: (job: QueueJob) => Promise<unknown>,
    capacity = 8,
  ): { consumer: LaneConsumer; tally: LaneTally; running: () => number } {
    let running = 0;
    const tally = new LaneTally(lane, model, 0, logger);
    const c = new LaneConsumer({
      lane,
      queues,
      model,
      shard: 0,
      capacity,
      running: () => running,
      process: async (j) => {
        running++;
        try {
          return await process(j);
        } finally {
          running--;
        }
      },
      retry: RETRY,
      leaseMs: 2000,
      recoverEveryMs: 60_000,
      tally,
      logger,
    });
    consumers.push(c);
    return { consumer: c, tally, running: () => running };
  }

  const empty = async (model: string): Promise<boolean> => {
    const k = laneKeys(model, 0);
    const [ready, leased, data] = await Promise.all([
      redis.zcard(k.ready),
      redis.zcard(k.leased),
      redis.hlen(k.data),
    ]);
    return ready + leased + data === 0;
  };

  it('runs lane jobs, then releases their leases and payloads', async () => {
    const model = uniqueModel('lane');
    const ran: string[] = [];
    const { consumer: c, tally } = consumer(model, async (j) => {
      ran.push(j.id ?? '');
      assert.equal(j.lane, true);
      assert.equal(j.attemptsMade, 0);
      assert.equal(j.opts.attempts, RETRY.attempts);
      return 'completed';
    });
    const jobs = [job(model), job(model), job(model)];
    for (const j of jobs) await lane.add(j);
    c.start();
    await eventually(() => ran.length === 3, 5000, 'three runs');
    await eventually(() => empty(model), 5000, 'an empty lane');
    assert.deepEqual(
      ran,
      jobs.map((j) => j.id),
    );
    await c.stopTaking();
    await tally.close();
    const minutes = await lane.perMinute(model, 0, 'completed', 2);
    assert.equal(
      minutes.reduce((a, b) => a + b, 0),
      3,
    );
  });

  it('takes no more jobs than it has free slots, and the rest as slots free up', async () => {
    const model = uniqueModel('lane');
    const gates: (() => void)[] = [];
    const { consumer: c, running } = consumer(
      model,
      () => new Promise<void>((resolve) => gates.push(resolve)),
      2,
    );
    for (let i = 0; i < 5; i++) await lane.add(job(model));
    c.start();
    await eventually(() => gates.length === 2, 5000, 'two runs');
    assert.equal(running(), 2);
    assert.equal(await redis.zcard(laneKeys(model, 0).ready), 3);
    for (let done = 0; done < 5; done++) {
      await eventually(() => gates.length > done, 5000, `run ${done + 1}`);
      gates[done]?.();
    }
    await eventually(() => empty(model), 5000, 'an empty lane');
    await c.stopTaking();
  });

  it('moves a job whose attempt failed into BullMQ with the attempts left, after the back-off', async () => {
    const model = uniqueModel('lane');
    const { consumer: c } = consumer(model, () => Promise.reject(new Error('replica crashed')));
    const j = job(model);
    await lane.add(j);
    c.start();
    await eventually(async () => (await queues.queue(model, 0).getJob(j.id)) !== undefined, 5000, 'a retry');
    const retry = await queues.queue(model, 0).getJob(j.id);
    assert.equal(retry?.opts.attempts, RETRY.attempts - 1);
    assert.equal(retry?.opts.delay, RETRY.backoff_ms);
    assert.deepEqual(retry?.opts.backoff, { type: 'exponential', delay: RETRY.backoff_ms * 2 });
    assert.equal(await retry?.getState(), 'delayed');
    await eventually(() => empty(model), 5000, 'an empty lane');
    await c.stopTaking();
    await queues.queue(model, 0).obliterate({ force: true });
  });

  it('hands a job back into BullMQ with every attempt left', async () => {
    const model = uniqueModel('lane');
    const { consumer: c } = consumer(model, async (qj) => {
      await qj.moveToDelayed(Date.now(), 'lane');
      throw new DelayedError();
    });
    const j = job(model);
    await lane.add(j);
    c.start();
    await eventually(
      async () => (await queues.queue(model, 0).getJob(j.id)) !== undefined,
      5000,
      'a hand-back',
    );
    const back = await queues.queue(model, 0).getJob(j.id);
    assert.equal(back?.opts.attempts, RETRY.attempts);
    assert.equal(await back?.getState(), 'prioritized');
    await eventually(() => empty(model), 5000, 'an empty lane');
    await c.stopTaking();
    await queues.queue(model, 0).obliterate({ force: true });
  });

  it('counts and lists a job that failed for good, leaving BullMQ out', async () => {
    const model = uniqueModel('lane');
    const { consumer: c, tally } = consumer(model, () => Promise.reject(new UnrecoverableError('poison')));
    const j = job(model);
    await lane.add(j);
    c.start();
    await eventually(() => empty(model), 5000, 'an empty lane');
    // Listed at once, not with the next periodic write of the counts.
    await eventually(
      async () => (await lane.recentFailed(model, 0, 5)).some((f) => f.id === j.id),
      1000,
      'the failure listed',
    );
    await c.stopTaking();
    await tally.close();
    assert.equal(
      (await lane.perMinute(model, 0, 'failed', 2)).reduce((a, b) => a + b, 0),
      1,
    );
    assert.equal(await queues.queue(model, 0).getJob(j.id), undefined);
  });

  it('recovers a job whose worker died into BullMQ, once its lease ran out', async () => {
    const model = uniqueModel('lane');
    const j = job(model);
    await lane.add(j);
    // A worker that took it and died: its short lease is never renewed.
    assert.equal((await lane.take(model, 0, 1, 50)).length, 1);
    const { consumer: c } = consumer(model, () => Promise.resolve('completed'));
    assert.equal(await c.recover(), 0, 'a live lease is left alone');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(await c.recover(), 1);
    const recovered = await queues.queue(model, 0).getJob(j.id);
    assert.equal(recovered?.opts.attempts, RETRY.attempts, 'a stall uses no attempt');
    assert.ok(await empty(model));
    c.close();
    await queues.queue(model, 0).obliterate({ force: true });
  });
});
