import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { HotpathError } from '@hotpath/contracts';
import { MicroBatcher, type BatchRunner } from './micro-batcher';

/** Lets queued promise callbacks run (mocked timers do not advance microtasks by themselves). */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

interface Recorder {
  batches: number[][];
  release: () => void;
  runner: BatchRunner<number, number>;
}

/** A runner that records batches and holds each until `release` (to model a busy replica). */
function recorder(hold = false): Recorder {
  const rec: Recorder = {
    batches: [],
    release: () => undefined,
    runner: async (inputs) => {
      rec.batches.push([...inputs]);
      if (hold) await new Promise<void>((r) => (rec.release = r));
      return inputs.map((x) => x * 10);
    },
  };
  return rec;
}

describe('MicroBatcher', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('flushes when the batch is full, without waiting for the timer', async () => {
    const rec = recorder();
    const b = new MicroBatcher({
      maxBatchSize: 3,
      maxQueueDelayMs: 50,
      maxConcurrentBatches: 1,
      maxBuffered: 100,
      run: rec.runner,
    });
    const outs = Promise.all([1, 2, 3].map((x) => b.submit(x)));
    await flush();
    assert.deepEqual(rec.batches, [[1, 2, 3]]);
    const res = await outs;
    assert.deepEqual(
      res.map((r) => r.output),
      [10, 20, 30],
    );
    assert.ok(res.every((r) => r.batchSize === 3 && r.batchWaitMs === 0));
  });

  it('flushes a partial batch max_queue_delay_ms after its first item', async () => {
    const rec = recorder();
    const b = new MicroBatcher({
      maxBatchSize: 8,
      maxQueueDelayMs: 20,
      maxConcurrentBatches: 1,
      maxBuffered: 100,
      run: rec.runner,
    });
    const p1 = b.submit(1);
    mock.timers.tick(15);
    const p2 = b.submit(2);
    await flush();
    assert.equal(rec.batches.length, 0);
    mock.timers.tick(5);
    await flush();
    assert.deepEqual(rec.batches, [[1, 2]]);
    assert.equal((await p1).batchWaitMs, 20);
    assert.equal((await p2).batchWaitMs, 5);
  });

  it('does not wait at all with a zero delay (no tax on an idle model)', async () => {
    const rec = recorder();
    const b = new MicroBatcher({
      maxBatchSize: 8,
      maxQueueDelayMs: 0,
      maxConcurrentBatches: 1,
      maxBuffered: 100,
      run: rec.runner,
    });
    const r = await b.submit(7);
    assert.equal(r.batchWaitMs, 0);
    assert.equal(r.batchSize, 1);
  });

  it('accumulates while every replica is busy and takes high priority first', async () => {
    const rec = recorder(true);
    const b = new MicroBatcher({
      maxBatchSize: 3,
      maxQueueDelayMs: 0,
      maxConcurrentBatches: 1,
      maxBuffered: 100,
      run: rec.runner,
    });
    const first = b.submit(0);
    await flush();
    assert.deepEqual(rec.batches, [[0]]);
    const rest = [
      b.submit(1, { priority: 'low' }),
      b.submit(2, { priority: 'low' }),
      b.submit(3, { priority: 'high' }),
      b.submit(4, { priority: 'normal' }),
      b.submit(5, { priority: 'high' }),
    ];
    await flush();
    assert.equal(b.buffered, 5);
    rec.release();
    await first;
    await flush();
    assert.deepEqual(rec.batches[1], [3, 5, 4]);
    rec.release();
    await flush();
    assert.deepEqual(rec.batches[2], [1, 2]);
    rec.release();
    await Promise.all(rest);
  });

  it('ages waiting low-priority items so they are not starved', async () => {
    const rec = recorder(true);
    const b = new MicroBatcher({
      maxBatchSize: 1,
      maxQueueDelayMs: 0,
      maxConcurrentBatches: 1,
      maxBuffered: 100,
      agingMs: 100,
      run: rec.runner,
    });
    void b.submit(0);
    await flush();
    const low = b.submit(99, { priority: 'low' });
    mock.timers.tick(250); // low has aged two classes: now ranks like high
    const high = b.submit(1, { priority: 'high' });
    rec.release();
    await flush();
    assert.deepEqual(rec.batches[1], [99], 'the aged low item runs before a fresh high one');
    rec.release();
    await flush();
    rec.release();
    await Promise.all([low, high]);
  });

  it('fails expired items with deadline_exceeded instead of running them', async () => {
    const rec = recorder();
    const b = new MicroBatcher({
      maxBatchSize: 4,
      maxQueueDelayMs: 30,
      maxConcurrentBatches: 1,
      maxBuffered: 100,
      run: rec.runner,
    });
    const late = b.submit(1, { deadlineAt: Date.now() + 10 });
    const ok = b.submit(2, { deadlineAt: Date.now() + 1000 });
    mock.timers.tick(30);
    await assert.rejects(late, (e: unknown) => e instanceof HotpathError && e.code === 'deadline_exceeded');
    assert.equal((await ok).output, 20);
    assert.deepEqual(rec.batches, [[2]]);
  });

  it('removes an item cancelled before its batch starts', async () => {
    const rec = recorder();
    const b = new MicroBatcher({
      maxBatchSize: 4,
      maxQueueDelayMs: 30,
      maxConcurrentBatches: 1,
      maxBuffered: 100,
      run: rec.runner,
    });
    const ac = new AbortController();
    const gone = b.submit(1, { signal: ac.signal });
    const kept = b.submit(2);
    ac.abort();
    await assert.rejects(gone, (e: unknown) => e instanceof HotpathError && e.code === 'cancelled');
    mock.timers.tick(30);
    assert.equal((await kept).output, 20);
    assert.deepEqual(rec.batches, [[2]]);
  });

  it('fails only the item whose output is an Error', async () => {
    const b = new MicroBatcher<number, number>({
      maxBatchSize: 3,
      maxQueueDelayMs: 0,
      maxConcurrentBatches: 1,
      maxBuffered: 100,
      run: async (xs) => xs.map((x) => (x === 2 ? new Error('bad item') : x)),
    });
    const rs = await Promise.allSettled([b.submit(1), b.submit(2), b.submit(3)]);
    assert.deepEqual(
      rs.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
  });

  it('fails the whole batch when the runner throws', async () => {
    const b = new MicroBatcher<number, number>({
      maxBatchSize: 2,
      maxQueueDelayMs: 0,
      maxConcurrentBatches: 1,
      maxBuffered: 100,
      run: async () => {
        throw new Error('replica crashed');
      },
    });
    const rs = await Promise.allSettled([b.submit(1), b.submit(2)]);
    assert.ok(rs.every((r) => r.status === 'rejected'));
  });

  it('bounds its buffer and shuts down idempotently', async () => {
    const rec = recorder(true);
    const b = new MicroBatcher({
      maxBatchSize: 1,
      maxQueueDelayMs: 0,
      maxConcurrentBatches: 1,
      maxBuffered: 2,
      run: rec.runner,
    });
    const running = b.submit(1);
    await flush();
    const w1 = b.submit(2);
    const w2 = b.submit(3);
    await assert.rejects(b.submit(4), (e: unknown) => e instanceof HotpathError && e.code === 'queue_full');
    const down = b.shutdown();
    await assert.rejects(w1, (e: unknown) => e instanceof HotpathError && e.code === 'worker_shutdown');
    await assert.rejects(w2, (e: unknown) => e instanceof HotpathError && e.code === 'worker_shutdown');
    rec.release();
    await down;
    assert.equal((await running).output, 10, 'the running batch finishes during shutdown');
    await b.shutdown();
    await assert.rejects(
      b.submit(5),
      (e: unknown) => e instanceof HotpathError && e.code === 'worker_shutdown',
    );
  });

  it("reports each batch with its members' tags and usage before they settle", async () => {
    const rec = recorder();
    const events: string[] = [];
    const b = new MicroBatcher<number, number, string>({
      maxBatchSize: 2,
      maxQueueDelayMs: 50,
      maxConcurrentBatches: 1,
      maxBuffered: 100,
      usage: (outs) => ({ outputTokens: outs.reduce((n, o) => n + o, 0) }),
      onReport: (r) => events.push(`${r.kind}:${r.tags.join(',')}/${r.size}:${r.outputTokens}`),
      run: rec.runner,
    });
    const one = b.submit(1, { tag: 'a' }).then(() => events.push('a settled'));
    const two = b.submit(2).then(() => events.push('untagged settled'));
    await Promise.all([one, two]);
    assert.deepEqual(events, ['batch:a/2:30', 'a settled', 'untagged settled']);
  });
});
