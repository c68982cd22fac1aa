import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  fairLookahead,
  type ClusterConfig,
  type ClusterConfigInput,
  type Priority,
  type QueuedJob,
} from '@hotpath/contracts';
import {
  FAIR_WAITING_CHANNEL,
  FairQueue,
  UsageStore,
  fairHeldMessage,
  fairKey,
  fairWaitingMessage,
} from '@hotpath/queue';
import type { WorkerHandle } from '../worker-app';
import {
  TestProducer,
  eventually,
  httpGet,
  startTestWorker,
  testCluster,
  uniqueModel,
} from '../testing/worker-test-kit';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A sim model of two slots on two replicas, one job per forward (no batching). */
function twoSlotSim(
  name: string,
  extra: Pick<ClusterConfigInput['models'][number], 'sim' | 'fairness'>,
): ClusterConfigInput['models'][number] {
  return { name, backend: 'sim', concurrency: 2, replicas: 2, batching: { enabled: false }, ...extra };
}

/**
 * Real workers, real Redis: jobs enter the fair queue as the API enters them, and the workers'
 * hand-off moves them into BullMQ in fair order.
 */
describe('fair queuing with real workers', () => {
  let producer: TestProducer;
  let fair: FairQueue;

  before(async () => {
    producer = new TestProducer(REDIS_URL, testCluster([{ name: 'unused', backend: 'sim' }]));
    await producer.ready();
    fair = new FairQueue(producer.redis);
  });
  after(() => producer.close());

  /** Submits like the API: record, then the fair queue (straight to BullMQ when nothing waits). */
  async function submit(
    cluster: ClusterConfig,
    model: string,
    tenant: string,
    opts: { priority?: Priority; prompt?: string; weight?: number; maxTokens?: number } = {},
  ): Promise<string> {
    const id = randomUUID();
    const priority = opts.priority ?? 'normal';
    const now = Date.now();
    const job: QueuedJob = {
      id,
      tenant,
      model,
      shard: 0,
      priority,
      task: 'generate',
      input: { prompt: opts.prompt ?? 'hello there' },
      params: { max_tokens: opts.maxTokens ?? 3 },
      deadline_at: null,
      enqueued_at: now,
    };
    await producer.store.create({ id, tenant, model, task: 'generate', priority, shard: 0, createdAt: now });
    const config = cluster.models.find((m) => m.name === model);
    if (!config) throw new Error('no model');
    const a = await fair.enqueue(job, { tenant, weight: opts.weight ?? 1 }, fairLookahead(config));
    if (a.kind === 'direct') {
      await producer.queues.enqueue(
        a.counted ? job : { ...job, fair_uncounted: true },
        cluster.queue,
        a.held,
      );
      await fair.confirm(model, 0, id);
      if (a.held) await producer.redis.publish(FAIR_WAITING_CHANNEL, fairHeldMessage(model, 0, tenant));
    } else if (a.kind === 'queued' && a.first) {
      await producer.redis.publish(FAIR_WAITING_CHANNEL, fairWaitingMessage(model, 0));
    }
    return id;
  }

  /** Start order of jobs, from their records. */
  async function startOrder(ids: string[]): Promise<string[]> {
    const recs = await producer.store.getMany(ids);
    return recs
      .map((r, i) => ({ id: ids[i] ?? '', at: r?.startedAt ?? Infinity }))
      .sort((x, y) => x.at - y.at)
      .map((x) => x.id);
  }

  it('two workers serve a late tenant between a flooding tenant’s jobs, by priority within each tenant', async () => {
    const model = uniqueModel('fair');
    const cluster = testCluster([
      {
        name: model,
        backend: 'sim',
        concurrency: 1,
        batching: { enabled: false },
        // 10 ms per token: a flood job of 20 tokens takes 200 ms, a late job of 3 takes 30 ms. The
        // first hand-off from the fair queue waits for a flood job to end, so the late tenant's
        // three sequential submits all land before it (with 30 ms flood jobs a slow CI machine
        // handed the late tenant's normal job out before its high one was in).
        sim: { base_ms: 10, per_item_ms: 0 },
        fairness: { lookahead: 1 },
      },
    ]);
    const workers: WorkerHandle[] = [];
    try {
      for (let i = 0; i < 2; i++) workers.push(await startTestWorker(REDIS_URL, cluster));
      // The flood arrives at once; the late tenant's jobs right after it.
      const a = await Promise.all(
        Array.from({ length: 30 }, () => submit(cluster, model, 'flood', { maxTokens: 20 })),
      );
      const b = [
        await submit(cluster, model, 'late', { priority: 'low' }),
        await submit(cluster, model, 'late'),
        await submit(cluster, model, 'late', { priority: 'high' }),
      ];
      const all = [...a, ...b];
      await eventually(
        async () => (await producer.store.getMany(all)).every((r) => r?.status === 'completed'),
        20_000,
        'every job completed',
      );
      const order = await startOrder(all);
      const lastLate = Math.max(...b.map((id) => order.indexOf(id)));
      const marks = order.map((id) => (b.includes(id) ? 'L' : 'f')).join('');
      assert.ok(lastLate < 15, `the late tenant's jobs started by position ${lastLate} of 33: ${marks}`);
      const lateOrder = order.filter((id) => b.includes(id));
      assert.deepEqual(lateOrder, [b[2], b[1], b[0]], 'high, normal, low within the tenant');
      assert.equal(await producer.redis.get(fairKey(model, 0, 'count')), '0');
    } finally {
      await Promise.all(workers.map((w) => w.close({ graceMs: 1000 })));
    }
    assert.equal(await producer.redis.hlen(fairKey(model, 0, 'inflight')), 0, 'running counts back to zero');
  });

  it('anticipation: a tenant sending one job at a time keeps the slot its last job freed, behind a flood', async () => {
    const model = uniqueModel('anticipate');
    const cluster = testCluster([
      twoSlotSim(model, {
        // 10 ms per token: the flood's 100-token jobs take a second, the sequential tenant's 20 ms.
        sim: { base_ms: 10, per_item_ms: 0 },
        // Generous, so that a slow machine's turnaround still falls inside it.
        fairness: { lookahead: 1, anticipate_ms: 1000 },
      }),
    ]);
    const worker = await startTestWorker(REDIS_URL, cluster);
    try {
      const flood = await Promise.all(
        Array.from({ length: 10 }, () => submit(cluster, model, 'flood', { maxTokens: 100 })),
      );
      await eventually(
        async () => (await producer.store.getMany(flood)).filter((r) => r?.status === 'running').length === 2,
        10_000,
        'the flood holds both slots',
      );
      const waits: number[] = [];
      for (let i = 0; i < 3; i++) {
        const id = await submit(cluster, model, 'seq', { maxTokens: 2 });
        await eventually(
          async () => (await producer.store.getMany([id]))[0]?.status === 'completed',
          10_000,
          'the sequential job completed',
        );
        const [r] = await producer.store.getMany([id]);
        waits.push((r?.startedAt ?? Infinity) - (r?.createdAt ?? 0));
      }
      // The first waits for a flood job to end (up to a second); each next one takes the slot the
      // last one held for it instead of waiting for the next flood job to end.
      for (const w of waits.slice(1)) assert.ok(w < 500, `the sequential jobs waited ${waits.join(', ')} ms`);
      const holds = (await worker.metrics.fairHolds.get()).values;
      const taken = holds.find((v) => v.labels['model'] === model && v.labels['outcome'] === 'taken');
      assert.ok((taken?.value ?? 0) >= 2, `hotpath_fair_holds_total: ${JSON.stringify(holds)}`);
    } finally {
      await worker.close({ graceMs: 0 });
    }
  });

  it('a late tenant’s job takes an idle sim replica, not the one busy with a flooding tenant’s prefill', async () => {
    const model = uniqueModel('idle-replica');
    // Two slots on two replicas. A prompt word costs 100 ms of prefill, so the flooding job (20 words,
    // one token) is a single 2 s prefill forward, during which its replica holds it in neither its
    // waiting nor its running list. A late job routed to that replica would end after it.
    const cluster = testCluster([
      twoSlotSim(model, { sim: { base_ms: 10, per_item_ms: 0, prefill_per_token_ms: 100 } }),
    ]);
    const worker = await startTestWorker(REDIS_URL, cluster);
    try {
      const words = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
      const long = await submit(cluster, model, 'flood', { prompt: words, maxTokens: 1 });
      await eventually(
        async () => (await producer.store.getMany([long]))[0]?.status === 'running',
        10_000,
        'the flooding job runs',
      );
      const late = await submit(cluster, model, 'late', { prompt: 'hi', maxTokens: 1 });
      await eventually(
        async () => (await producer.store.getMany([long, late])).every((r) => r?.status === 'completed'),
        20_000,
        'both completed',
      );
      const [l, s] = await producer.store.getMany([long, late]);
      assert.ok(
        (s?.finishedAt ?? Infinity) < (l?.finishedAt ?? 0),
        `the late job ended at ${s?.finishedAt}, the flooding one at ${l?.finishedAt}`,
      );
    } finally {
      await worker.close({ graceMs: 1000 });
    }
  });

  it('counts each tenant’s usage exactly: jobs, prompt and completion tokens, Prometheus series', async () => {
    const model = uniqueModel('usage');
    const cluster = testCluster([
      { name: model, backend: 'sim', concurrency: 4, sim: { base_ms: 1, per_item_ms: 0 } },
    ]);
    const worker = await startTestWorker(REDIS_URL, {
      ...cluster,
      tenants: { ...cluster.tenants, overrides: { named: {} } },
    });
    try {
      const since = Date.now();
      const prompts = ['one', 'one two', 'one two three', 'a b c d', 'x'];
      const ids: string[] = [];
      for (const p of prompts) ids.push(await submit(cluster, model, 'named', { prompt: p }));
      ids.push(await submit(cluster, model, 'anonymous'));
      await eventually(
        async () => (await producer.store.getMany(ids)).every((r) => r?.status === 'completed'),
        10_000,
        'jobs completed',
      );
      const recs = await producer.store.getMany(ids.slice(0, prompts.length));
      const prompt = recs.reduce((n, r) => n + (r?.usage?.prompt_tokens ?? 0), 0);
      const completion = recs.reduce((n, r) => n + (r?.usage?.completion_tokens ?? 0), 0);
      assert.ok(prompt > 0 && completion > 0);
      const usage = new UsageStore(producer.redis, () => 3600);
      // Usage is written just after a job's record turns terminal.
      const completed = async () => (await usage.report('named', since, Date.now() + 1000)).models[model];
      await eventually(async () => (await completed())?.completed === 5, 5000, 'usage written');
      assert.deepEqual(await completed(), {
        jobs: 5,
        completed: 5,
        failed: 0,
        cancelled: 0,
        cache_hits: 0,
        rate_limited: 0,
        prompt_tokens: prompt,
        completion_tokens: completion,
      });
      const metrics = (await httpGet(worker.metricsPort, '/metrics')).body;
      assert.match(
        metrics,
        new RegExp(
          `hotpath_tenant_jobs_total\\{tenant="named",model="${model}",outcome="completed"[^}]*\\} 5`,
        ),
      );
      assert.match(
        metrics,
        new RegExp(
          `hotpath_tenant_tokens_total\\{tenant="named",model="${model}",kind="prompt"[^}]*\\} ${prompt}`,
        ),
      );
      // A tenant the config does not name shares one series.
      assert.match(
        metrics,
        new RegExp(
          `hotpath_tenant_jobs_total\\{tenant="_other",model="${model}",outcome="completed"[^}]*\\} 1`,
        ),
      );
    } finally {
      await worker.close({ graceMs: 1000 });
    }
  });
});
