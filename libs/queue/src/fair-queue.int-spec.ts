import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'bullmq';
import { shardQueueKey, shardQueueRef, type Priority, type QueuedJob } from '@hotpath/contracts';
import { createRedisConnection, waitForRedis, type RedisClient } from './redis-connection';
import { FAIR_RECLAIM_MS, FairQueue, countsAsRunning, fairBacklogKey, fairKey } from './fair-queue';
import { FairDispatcher } from './fair-dispatcher';
import { parseRedisTarget } from './redis-target';
import { keySlot } from './redis-slots';
import { ShardQueues } from './shard-queues';
import { queuedTestJob } from './testing/queued-job';

// The test runner's Redis Cluster pass runs this file again against its cluster
// (HOTPATH_E2E_REDIS_CLUSTER): every fair-queue script must then stay within its shard's slot.
const CLUSTER_URL = process.env['HOTPATH_E2E_REDIS_CLUSTER'];
const TARGET = parseRedisTarget(
  CLUSTER_URL
    ? { url: CLUSTER_URL, mode: 'cluster' }
    : { url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' },
);
const RETRY = { attempts: 1, backoff_ms: 0 };

function job(model: string, tenant: string, priority: Priority = 'normal', shard = 0): QueuedJob {
  return queuedTestJob(model, { tenant, priority, shard });
}

const newModel = (): string => `t-${randomUUID().slice(0, 8)}`;
const tenantsOf = (jobs: QueuedJob[]): string => jobs.map((j) => j.tenant).join('');

describe('FairQueue on real Redis', () => {
  let redis: RedisClient;
  let clock = Date.now();
  let fair: FairQueue;

  before(async () => {
    redis = createRedisConnection(TARGET, 'producer', 'test-fair');
    await waitForRedis(redis, 5000);
    fair = new FairQueue(redis, () => clock);
  });
  after(() => redis.disconnect());

  /** Enqueues with lookahead 0, so every job waits in the fair queue. */
  const queueAll = async (jobs: QueuedJob[], weight = 1, extra: { maxRunning?: number } = {}) => {
    for (const j of jobs) {
      const a = await fair.enqueue(j, { tenant: j.tenant, weight, ...extra }, 0);
      assert.equal(a.kind, 'queued');
    }
  };

  it('goes straight to BullMQ while nothing waits and the queue is below the lookahead', async () => {
    const model = newModel();
    const first = await fair.enqueue(job(model, 'a'), { tenant: 'a', weight: 1 }, 1);
    assert.deepEqual(first, { kind: 'direct', counted: false }, 'no max_running: not counted');
    // Until its add is confirmed the direct job counts against the lookahead, so concurrent
    // submissions cannot all go direct.
    const second = await fair.enqueue(job(model, 'a'), { tenant: 'a', weight: 1 }, 1);
    assert.deepEqual(second, { kind: 'queued', queued: 1, first: true }, 'the first to wait in the shard');
    const third = await fair.enqueue(job(model, 'b'), { tenant: 'b', weight: 1 }, 5);
    assert.deepEqual(
      third,
      { kind: 'queued', queued: 1, first: false },
      'a tenant cannot skip jobs already waiting',
    );
    assert.deepEqual(await fair.enqueue(job(model, 'a'), { tenant: 'a', weight: 1 }, 5), {
      kind: 'queued',
      queued: 2,
      first: false,
    });
    assert.equal(await redis.hlen(fairKey(model, 0, 'inflight')), 0);
  });

  it('counts a direct job as running only for a tenant with max_running', async () => {
    const model = newModel();
    const capped = await fair.enqueue(job(model, 'a'), { tenant: 'a', weight: 1, maxRunning: 2 }, 5);
    assert.deepEqual(capped, { kind: 'direct', counted: true });
    const free = await fair.enqueue(job(model, 'b'), { tenant: 'b', weight: 1 }, 5);
    assert.deepEqual(free, { kind: 'direct', counted: false });
    assert.deepEqual(await redis.hgetall(fairKey(model, 0, 'inflight')), { a: '1' });
    assert.equal(await redis.zcard(fairKey(model, 0, 'transit')), 2, 'both hold a lookahead place');
  });

  it('a slot held for a tenant takes its next job ahead of the queue, once, while none of its own wait', async () => {
    const model = newModel();
    await queueAll([job(model, 'a')]);
    const round = await fair.dispatch(model, 0, 0);
    assert.deepEqual([round.waitingTenants, round.waitingNames], [1, ['a']], 'the round names who waits');
    // No hold: the job waits behind A's.
    assert.equal((await fair.enqueue(job(model, 'b'), { tenant: 'b', weight: 1 }, 0)).kind, 'queued');
    await fair.hold(model, 0, 'c', 60_000);
    assert.deepEqual(await fair.enqueue(job(model, 'c'), { tenant: 'c', weight: 1 }, 0), {
      kind: 'direct',
      counted: false,
      held: true,
    });
    assert.equal(
      (await fair.enqueue(job(model, 'c'), { tenant: 'c', weight: 1 }, 0)).kind,
      'queued',
      'one job per hold',
    );
    // B's own job waits: a hold must not let B's next job overtake it.
    await fair.hold(model, 0, 'b', 60_000);
    assert.equal((await fair.enqueue(job(model, 'b'), { tenant: 'b', weight: 1 }, 0)).kind, 'queued');
    // A tenant with max_running is counted, as on the direct path.
    await fair.hold(model, 0, 'd', 60_000);
    assert.deepEqual(await fair.enqueue(job(model, 'd'), { tenant: 'd', weight: 1, maxRunning: 1 }, 0), {
      kind: 'direct',
      counted: true,
      held: true,
    });
    assert.equal(await redis.hget(fairKey(model, 0, 'inflight'), 'd'), '1');
    // A hold nobody used expires.
    await fair.hold(model, 0, 'e', 30);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal((await fair.enqueue(job(model, 'e'), { tenant: 'e', weight: 1 }, 0)).kind, 'queued');
  });

  it('serves tenants round-robin, each tenant by priority then arrival', async () => {
    const model = newModel();
    const a = [job(model, 'a', 'low'), job(model, 'a'), job(model, 'a', 'high'), job(model, 'a')];
    const b = [job(model, 'b'), job(model, 'b')];
    await queueAll(a);
    await queueAll(b);
    const out = (await fair.dispatch(model, 0, 100)).jobs;
    assert.equal(tenantsOf(out), 'ababaa');
    const aOrder = out.filter((j) => j.tenant === 'a').map((j) => j.id);
    assert.deepEqual(aOrder, [a[2]!.id, a[1]!.id, a[3]!.id, a[0]!.id]);
  });

  it('splits by weight 2:1 and keeps the round across calls', async () => {
    const model = newModel();
    const a = Array.from({ length: 20 }, () => job(model, 'a'));
    const b = Array.from({ length: 20 }, () => job(model, 'b'));
    await queueAll(a, 2);
    await queueAll(b, 1);
    let order = '';
    let added: string[] = [];
    for (let i = 0; i < 15; i++) {
      // One job at a time, as workers free places: the deficits carry over between calls.
      const got = (await fair.dispatch(model, 0, 1, [], added)).jobs;
      added = got.map((j) => j.id);
      order += tenantsOf(got);
    }
    assert.equal(order, 'aabaabaabaabaab');
  });

  it('fractional weights accumulate over rounds', async () => {
    const model = newModel();
    await queueAll(
      Array.from({ length: 6 }, () => job(model, 'a')),
      1,
    );
    await queueAll(
      Array.from({ length: 6 }, () => job(model, 'b')),
      0.5,
    );
    const out = (await fair.dispatch(model, 0, 9)).jobs;
    // b (weight 0.5) earns one job every second round.
    assert.equal(tenantsOf(out), 'aabaabaab');
  });

  it('holds back a tenant at max_running until one of its jobs ends', async () => {
    const model = newModel();
    await queueAll(
      Array.from({ length: 3 }, () => job(model, 'a')),
      1,
      { maxRunning: 1 },
    );
    await queueAll([job(model, 'b'), job(model, 'b')]);
    const first = (await fair.dispatch(model, 0, 10)).jobs;
    assert.equal(tenantsOf(first), 'abb');
    const none = (
      await fair.dispatch(
        model,
        0,
        10,
        [],
        first.map((j) => j.id),
      )
    ).jobs;
    assert.equal(none.length, 0);
    const next = (await fair.dispatch(model, 0, 10, ['a'])).jobs;
    assert.equal(tenantsOf(next), 'a');
  });

  it('refuses past max_queued', async () => {
    const model = newModel();
    const who = { tenant: 'a', weight: 1, maxQueuedHere: 2 };
    assert.equal((await fair.enqueue(job(model, 'a'), who, 0)).kind, 'queued');
    assert.equal((await fair.enqueue(job(model, 'a'), who, 0)).kind, 'queued');
    assert.deepEqual(await fair.enqueue(job(model, 'a'), who, 0), { kind: 'full', queued: 2 });
    assert.equal(await fair.tenantWaitingElsewhere(model, 2, 1, 'a'), 2);
  });

  it('removes a waiting job and drops an emptied tenant from the ring', async () => {
    const model = newModel();
    const j = job(model, 'a');
    await queueAll([j]);
    assert.equal(await fair.remove(model, 0, 'a', j.id), true);
    assert.equal(await fair.remove(model, 0, 'a', j.id), false);
    assert.equal(await redis.llen(fairKey(model, 0, 'ring')), 0);
    assert.equal(await redis.get(fairKey(model, 0, 'count')), '0');
    assert.deepEqual(await fair.dispatch(model, 0, 10), { jobs: [], waitingTenants: 0, waitingNames: [] });
  });

  it('hands out a job again when its dispatcher never confirmed the add', async () => {
    const model = newModel();
    const j = job(model, 'a');
    await queueAll([j]);
    const taken = (await fair.dispatch(model, 0, 1)).jobs;
    assert.deepEqual(
      taken.map((t) => t.id),
      [j.id],
    );
    assert.equal((await fair.dispatch(model, 0, 1)).jobs.length, 0, 'in transit counts as queued');
    clock += FAIR_RECLAIM_MS + 1;
    const again = (await fair.dispatch(model, 0, 1)).jobs;
    assert.deepEqual(
      again.map((t) => t.id),
      [j.id],
    );
    await fair.dispatch(model, 0, 1, [], [j.id]);
    assert.equal(await redis.zcard(fairKey(model, 0, 'transit')), 0);
    assert.equal(await redis.hlen(fairKey(model, 0, 'data')), 0);
    assert.equal(await redis.hlen(fairKey(model, 0, 'handoff')), 0);
  });

  it('the backlog key holds exactly the waiting jobs, not those handed to BullMQ', async () => {
    const model = newModel();
    const jobs = [job(model, 'a'), job(model, 'a'), job(model, 'b'), job(model, 'b'), job(model, 'c')];
    await queueAll(jobs);
    const backlog = async () => redis.hlen(fairBacklogKey(model, 0));
    assert.equal(await backlog(), 5);
    const taken = (await fair.dispatch(model, 0, 2)).jobs.map((t) => t.id);
    assert.equal(taken.length, 2);
    // Taken, add not confirmed: in BullMQ (or about to be), so no longer in the backlog.
    assert.equal(await backlog(), 3);
    assert.equal(await redis.get(fairKey(model, 0, 'count')), '3');
    assert.equal(await redis.hlen(fairKey(model, 0, 'handoff')), 2);
    // A confirming round that takes nothing more (lookahead 0): the hand-off is empty again.
    await fair.dispatch(model, 0, 0, [], taken);
    assert.equal(await redis.hlen(fairKey(model, 0, 'handoff')), 0);
    assert.equal(await backlog(), 3);
    const left = jobs.filter((j) => !taken.includes(j.id));
    for (const j of left) await fair.remove(model, 0, j.tenant, j.id);
    assert.equal(await backlog(), 0);
  });

  it('takes over a job an earlier version left in transit with its payload in the backlog hash', async () => {
    const model = newModel();
    const j = job(model, 'a');
    // What a dispatcher of the previous layout left when it died between taking and adding.
    await redis.zadd(fairKey(model, 0, 'transit'), clock, j.id);
    await redis.hset(fairKey(model, 0, 'data'), j.id, JSON.stringify(j));
    clock += FAIR_RECLAIM_MS + 1;
    const again = (await fair.dispatch(model, 0, 1)).jobs;
    assert.deepEqual(
      again.map((t) => t.id),
      [j.id],
    );
    assert.equal(await redis.hlen(fairBacklogKey(model, 0)), 0, 'moved out of the backlog');
    await fair.dispatch(model, 0, 1, [], [j.id]);
    assert.equal(await redis.hlen(fairKey(model, 0, 'handoff')), 0);
    // And a confirmation alone also clears a payload left in the old place.
    const k = job(model, 'a');
    await redis.zadd(fairKey(model, 0, 'transit'), clock, k.id);
    await redis.hset(fairKey(model, 0, 'data'), k.id, JSON.stringify(k));
    await fair.dispatch(model, 0, 1, [], [k.id]);
    assert.equal(await redis.hlen(fairBacklogKey(model, 0)), 0);
  });

  it('keeps every key of a shard, tenant queues included, in the slot of its BullMQ queue', () => {
    const model = newModel();
    const slots = ['ring', 'data', 'handoff', 'transit', 'count', 'q:tenant-x', 'hold:tenant-x'].map((s) =>
      keySlot(fairKey(model, 3, s)),
    );
    assert.deepEqual(new Set(slots), new Set([keySlot(shardQueueKey(model, 3, 'prioritized'))]));
  });
});

// Standalone only: on a cluster, BullMQ workers closed in-process leave the ioredis Cluster clients
// "disconnecting" with node sockets open, so the file would never exit. The same hand-off runs on
// the Redis Cluster pass through real worker processes (test/e2e fairness.e2e-spec).
describe(
  'FairDispatcher with several BullMQ workers on real Redis',
  { skip: CLUSTER_URL !== undefined },
  () => {
    let redis: RedisClient;

    before(async () => {
      redis = createRedisConnection(TARGET, 'producer', 'test-fair-workers');
      await waitForRedis(redis, 5000);
    });
    after(() => redis.disconnect());

    it('a tenant arriving behind a flood is served within a few jobs, not after the flood', async () => {
      const model = newModel();
      const fair = new FairQueue(redis);
      const queues = new ShardQueues(redis);
      const served: string[] = [];
      const dispatchers: FairDispatcher[] = [];
      const workers: Worker[] = [];
      const ref = shardQueueRef(model, 0);
      const lookahead = 2;
      const errors: unknown[] = [];
      const conns: RedisClient[] = [];
      for (let w = 0; w < 3; w++) {
        const conn = createRedisConnection(TARGET, 'worker', `test-fair-w${w}`);
        conns.push(conn);
        const d = new FairDispatcher(fair, new ShardQueues(conn), RETRY, (err) => errors.push(err));
        d.add({ model, shard: 0, lookahead, capacity: 2 });
        dispatchers.push(d);
        const worker = new Worker(
          ref.name,
          async (bullJob) => {
            const data = bullJob.data as QueuedJob;
            d.started(model, 0);
            served.push(data.tenant);
            await new Promise((r) => setTimeout(r, 20));
            d.settled(model, 0, countsAsRunning(data) ? data.tenant : undefined);
          },
          { connection: conn, prefix: ref.prefix, concurrency: 2 },
        );
        workers.push(worker);
      }
      try {
        const submit = async (j: QueuedJob) => {
          const a = await fair.enqueue(j, { tenant: j.tenant, weight: 1 }, lookahead);
          if (a.kind === 'direct') {
            await queues.enqueue(a.counted ? j : { ...j, fair_uncounted: true }, RETRY);
            await fair.confirm(model, 0, j.id);
          }
        };
        // A floods (60 jobs at once for 6 slots of 20 ms); B then submits 10 one after the other.
        await Promise.all(Array.from({ length: 60 }, () => submit(job(model, 'a'))));
        for (let i = 0; i < 10; i++) await submit(job(model, 'b'));
        dispatchers.forEach((d) => d.start(200));
        const deadline = Date.now() + 20_000;
        while (served.length < 70 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(errors, []);
        assert.equal(served.length, 70, 'every job ran once');
        const lastB = served.lastIndexOf('b');
        // B's 10 jobs alternate with A's from the moment B queued: all done within ~2x10 jobs of
        // its arrival (plus the jobs already running or in BullMQ), not after A's 60.
        assert.ok(lastB < 40, `B finished at position ${lastB}: ${served.join('')}`);
        assert.equal(await redis.get(fairKey(model, 0, 'count')), '0');
      } finally {
        await Promise.all(workers.map((w) => w.close()));
        // Closing sends what the dispatchers still held (ends, confirmations).
        await Promise.all(dispatchers.map((d) => d.close()));
        await queues.close();
        conns.forEach((c) => c.disconnect());
      }
      assert.equal(await redis.hlen(fairKey(model, 0, 'inflight')), 0, 'running counts back to zero');
      assert.equal(await redis.zcard(fairKey(model, 0, 'transit')), 0, 'every add confirmed');
    });

    it('anticipation: a sequential tenant behind a flood of long jobs gets the slot its last job freed', async () => {
      const model = newModel();
      const fair = new FairQueue(redis);
      const queues = new ShardQueues(redis);
      const conn = createRedisConnection(TARGET, 'worker', 'test-fair-hold');
      const errors: unknown[] = [];
      const d = new FairDispatcher(fair, new ShardQueues(conn), RETRY, (err) => errors.push(err));
      // Long enough that a slow machine still resubmits within it; the flood's jobs are longer.
      d.add({ model, shard: 0, lookahead: 1, capacity: 2, anticipateMs: 3000 });
      const started = new Map<string, number>();
      const done = new Map<string, () => void>();
      const ref = shardQueueRef(model, 0);
      const worker = new Worker(
        ref.name,
        async (bullJob) => {
          const data = bullJob.data as QueuedJob;
          d.started(model, 0, data.tenant);
          started.set(data.id, Date.now());
          await new Promise((r) => setTimeout(r, data.tenant === 'a' ? 4000 : 30));
          done.get(data.id)?.();
          await d.anticipate(model, 0, data.tenant);
          d.settled(model, 0, countsAsRunning(data) ? data.tenant : undefined, data.tenant);
        },
        { connection: conn, prefix: ref.prefix, concurrency: 2 },
      );
      const submit = async (j: QueuedJob): Promise<void> => {
        const a = await fair.enqueue(j, { tenant: j.tenant, weight: 1 }, 1);
        if (a.kind !== 'direct') return;
        await queues.enqueue(a.counted ? j : { ...j, fair_uncounted: true }, RETRY, a.held === true);
        await fair.confirm(model, 0, j.id);
        // What the API's announcement on FAIR_WAITING_CHANNEL does in a worker.
        if (a.held) d.heldTaken(model, 0, j.tenant);
      };
      try {
        d.start(100);
        await Promise.all(Array.from({ length: 10 }, () => submit(job(model, 'a'))));
        await until(() => started.size === 2);
        // B sends one job at a time, the next as soon as the last is answered.
        const waits: number[] = [];
        for (let i = 0; i < 3; i++) {
          const j = job(model, 'b');
          const finished = new Promise<void>((r) => done.set(j.id, r));
          const at = Date.now();
          await submit(j);
          await finished;
          waits.push((started.get(j.id) ?? Infinity) - at);
        }
        assert.deepEqual(errors, []);
        // The first waits for one of A's slots; each next one takes the slot B's last job held,
        // instead of waiting seconds for A's next job to end.
        for (const w of waits.slice(1)) assert.ok(w < 2000, `B waited ${waits.join(', ')} ms`);
      } finally {
        await worker.close(true);
        await d.close();
        await queues.queue(model, 0).obliterate({ force: true });
        await queues.close();
        conn.disconnect();
      }
    });

    it('an uncounted job’s end runs no round while nothing waits; an announcement of waiting jobs does', async () => {
      const model = newModel();
      const fair = new FairQueue(redis);
      const queues = new ShardQueues(redis);
      const errors: unknown[] = [];
      let dispatches = 0;
      const counting = new FairQueue(redis);
      const dispatch = counting.dispatch.bind(counting);
      // Counted once a round has its answer (the dispatcher's flags are set from it).
      counting.dispatch = (...args) => dispatch(...args).finally(() => dispatches++);
      const d = new FairDispatcher(counting, queues, RETRY, (err) => errors.push(err));
      d.add({ model, shard: 0, lookahead: 1 });
      try {
        // A tick that never comes within the test: only job ends and announcements run rounds.
        d.start(600_000);
        await until(() => dispatches === 1);
        // The start-up round found nothing waiting: an uncounted job's end costs no round.
        d.started(model, 0);
        d.settled(model, 0);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(dispatches, 1);
        // The lookahead is full (one job in transit), so the next one waits in the fair queue.
        assert.equal((await fair.enqueue(job(model, 'a'), { tenant: 'a', weight: 1 }, 1)).kind, 'direct');
        const waiting = await fair.enqueue(job(model, 'b'), { tenant: 'b', weight: 1 }, 1);
        assert.deepEqual(waiting, { kind: 'queued', queued: 1, first: true });
        await redis.zremrangebyrank(fairKey(model, 0, 'transit'), 0, -1);
        d.waiting(model, 0);
        await until(async () => (await queues.queue(model, 0).getJobCounts('prioritized')).prioritized === 1);
        assert.equal(await redis.hlen(fairBacklogKey(model, 0)), 0, 'handed to BullMQ');
        assert.deepEqual(errors, []);
      } finally {
        await d.close();
        await queues.queue(model, 0).obliterate({ force: true });
        await queues.close();
      }
    });
  },
);

/** Resolves once `check` holds (polled every 10 ms, at most 5 s). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
