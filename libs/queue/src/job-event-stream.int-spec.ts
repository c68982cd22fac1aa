import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedisConnection, waitForRedis } from './redis-connection';
import { JobEventPublisher } from './job-event-publisher';
import { JobEventReader } from './job-event-reader';
import {
  JOB_STREAMS_CHANNEL,
  encodeJobEvent,
  jobEventsKey,
  type JobStreamEntry,
  type JobStreamRef,
} from './job-event-stream';
import { compareStreamIds } from './job-stream-ids';
import { WebhookDeadLetters } from './webhook-dead-letters';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Collects a subscription's entries and resolves when `until` holds. */
function collector(until: (all: JobStreamEntry[]) => boolean, timeoutMs = 5000) {
  const all: JobStreamEntry[] = [];
  let resolve: () => void = () => undefined;
  const done = new Promise<void>((r, reject) => {
    resolve = r;
    setTimeout(() => reject(new Error(`timed out with ${all.length} entries`)), timeoutMs).unref();
  });
  return {
    all,
    done,
    listener: (entries: JobStreamEntry[]) => {
      all.push(...entries);
      if (until(all)) resolve();
    },
  };
}

/** Streams of these tests belong to one shard of a model no worker serves. */
const ref = (id: string): JobStreamRef => ({ id, model: 'events-int-spec', shard: 0 });

describe('job event streams on real Redis', () => {
  let conn: Redis;
  let subscriber: Redis;
  let reader: JobEventReader;
  const ids: string[] = [];

  before(async () => {
    conn = createRedisConnection(REDIS_URL, 'worker', 'test-events');
    subscriber = createRedisConnection(REDIS_URL, 'subscriber', 'test-events-sub');
    await waitForRedis(conn, 5000);
    // A poll far beyond the tests' timeouts proves live entries come through the publisher's notices.
    reader = new JobEventReader(subscriber, conn, { pollMs: 60_000 });
  });

  after(async () => {
    await reader.close();
    if (ids.length > 0) await conn.del(...ids.map((i) => jobEventsKey(ref(i))));
    conn.disconnect();
    subscriber.disconnect();
  });

  it('writes the tokens of one turn as one entry, keeps order, sets a TTL and ends with done', async () => {
    const id = randomUUID();
    ids.push(id);
    const sink = new JobEventPublisher(conn, { ttlS: 60 }).open(ref(id), true);
    sink.push({ type: 'status', status: 'running', attempt: 1 });
    for (let i = 0; i < 50; i++) sink.push({ type: 'token', index: i, text: `w${i} `, token_id: i });
    await sink.end({ type: 'done' });
    const ttl = await conn.ttl(jobEventsKey(ref(id)));
    assert.ok(ttl > 0 && ttl <= 60);
    // status, one `tokens` entry holding all 50, done.
    assert.equal(await conn.xlen(jobEventsKey(ref(id))), 3);
    const c = collector((all) => all.at(-1)?.type === 'done');
    const sub = reader.subscribe(ref(id), '0', c.listener);
    await c.done;
    sub.close();
    assert.equal(c.all.length, 52);
    assert.deepEqual(c.all[0], { id: c.all[0]?.id, type: 'status', status: 'running', attempt: 1 });
    const tokens = c.all.filter((e) => e.type === 'token');
    assert.deepEqual(
      tokens.map((t) => (t.type === 'token' ? t.index : -1)),
      Array.from({ length: 50 }, (_, i) => i),
    );
    for (let i = 1; i < c.all.length; i++) {
      assert.ok(compareStreamIds(c.all[i - 1]?.id ?? '0', c.all[i]?.id ?? '0') < 0);
    }
  });

  it('serves live entries to a subscriber, a late subscriber from 0, and one resuming after an id', async () => {
    const id = randomUUID();
    ids.push(id);
    const sink = new JobEventPublisher(conn, { ttlS: 60 }).open(ref(id), true);
    const early = collector((all) => all.some((e) => e.type === 'error'));
    const s1 = reader.subscribe(ref(id), '0', early.listener);
    for (let i = 0; i < 5; i++) {
      sink.push({ type: 'token', index: i, text: String(i), token_id: i });
      await sink.flush();
    }
    const late = collector((all) => all.some((e) => e.type === 'error'));
    const s2 = reader.subscribe(ref(id), '0', late.listener);
    await new Promise((r) => setTimeout(r, 50));
    const resumeFrom = early.all[2]?.id ?? '0';
    const resumed = collector((all) => all.some((e) => e.type === 'error'));
    const s3 = reader.subscribe(ref(id), resumeFrom, resumed.listener);
    await sink.end({ type: 'error', code: 'cancelled', message: 'job was cancelled' });
    await Promise.all([early.done, late.done, resumed.done]);
    for (const s of [s1, s2, s3]) s.close();
    assert.equal(early.all.length, 6);
    assert.deepEqual(
      late.all.map((e) => e.id),
      early.all.map((e) => e.id),
    );
    assert.deepEqual(
      resumed.all.map((e) => e.id),
      early.all.slice(3).map((e) => e.id),
    );
    assert.deepEqual(late.all.at(-1), {
      id: late.all.at(-1)?.id,
      type: 'error',
      code: 'cancelled',
      message: 'job was cancelled',
    });
    assert.equal(reader.size, 0);
  });
  it('resumes inside a multi-token entry from a token id, and writes several jobs in one turn', async () => {
    const a = randomUUID();
    const b = randomUUID();
    ids.push(a, b);
    const publisher = new JobEventPublisher(conn, { ttlS: 60 });
    const sa = publisher.open(ref(a), true);
    const sb = publisher.open(ref(b), true);
    for (let i = 0; i < 10; i++) {
      sa.push({ type: 'token', index: i, text: `a${i}`, token_id: i });
      sb.push({ type: 'token', index: i, text: `b${i}`, token_id: 100 + i });
    }
    await Promise.all([sa.end({ type: 'done' }), sb.end({ type: 'done' })]);
    assert.equal(await conn.xlen(jobEventsKey(ref(a))), 2);
    assert.equal(await conn.xlen(jobEventsKey(ref(b))), 2);

    const all = collector((got) => got.at(-1)?.type === 'done');
    const s1 = reader.subscribe(ref(a), '0', all.listener);
    await all.done;
    s1.close();
    const tokens = all.all.filter((e) => e.type === 'token');
    assert.equal(tokens.length, 10);
    // Token ids inside the entry are `<entry>.<k>`; the last token carries the entry id itself.
    assert.match(tokens[3]!.id, /^\d+-\d+\.3$/);
    assert.equal(tokens[9]!.id, tokens[3]!.id.split('.')[0]);
    for (let i = 1; i < all.all.length; i++) {
      assert.ok(compareStreamIds(all.all[i - 1]!.id, all.all[i]!.id) < 0);
    }

    const resumed = collector((got) => got.at(-1)?.type === 'done');
    const s2 = reader.subscribe(ref(a), tokens[3]!.id, resumed.listener);
    await resumed.done;
    s2.close();
    assert.deepEqual(
      resumed.all.map((e) => (e.type === 'token' ? e.text : e.type)),
      ['a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'done'],
    );
  });

  it('names the streams of one write on the channel, after their entries', async () => {
    const a = randomUUID();
    const b = randomUUID();
    ids.push(a, b);
    const listen = createRedisConnection(REDIS_URL, 'subscriber', 'test-events-listen');
    try {
      const notices: string[] = [];
      let lengths: number[] = [];
      const heard = new Promise<void>((resolve) => {
        listen.on('message', (channel: string, message: string) => {
          if (channel !== JOB_STREAMS_CHANNEL || !message.includes(a)) return;
          notices.push(message);
          // Read on hearing: the entries must be there already.
          void conn.xlen(jobEventsKey(ref(a))).then(async (la) => {
            lengths = [la, await conn.xlen(jobEventsKey(ref(b)))];
            resolve();
          });
        });
      });
      await listen.subscribe(JOB_STREAMS_CHANNEL);
      const publisher = new JobEventPublisher(conn, { ttlS: 60 });
      const sa = publisher.open(ref(a), true);
      const sb = publisher.open(ref(b), true);
      sa.push({ type: 'status', status: 'running', attempt: 1 });
      sb.push({ type: 'status', status: 'running', attempt: 1 });
      await publisher.send();
      await heard;
      assert.deepEqual(notices, [`${jobEventsKey(ref(a))} ${jobEventsKey(ref(b))}`]);
      assert.deepEqual(lengths, [1, 1]);
    } finally {
      listen.disconnect();
    }
  });

  it('reads a stream that no notice names on its poll, and a new follower at once', async () => {
    const id = randomUUID();
    ids.push(id);
    const key = jobEventsKey(ref(id));
    // As an older worker writes: no notice.
    await conn.xadd(key, '*', ...encodeJobEvent({ type: 'token', index: 0, text: 'a', token_id: 1 }));
    const polled = new JobEventReader(subscriber, conn, { pollMs: 100 });
    try {
      const c = collector((all) => all.some((e) => e.type === 'done'));
      const sub = polled.subscribe(ref(id), '0', c.listener);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(c.all.length, 1, 'the new follower is read at once');
      await conn.xadd(key, '*', ...encodeJobEvent({ type: 'done' }));
      await c.done;
      sub.close();
      assert.deepEqual(
        c.all.map((e) => e.type),
        ['token', 'done'],
      );
    } finally {
      await polled.close();
    }
  });

  it('with a flush interval, writes the first token at once and the following turns as one entry', async () => {
    const id = randomUUID();
    ids.push(id);
    const sink = new JobEventPublisher(conn, { ttlS: 60, flushMs: 200 }).open(ref(id), true);
    // The status waits for the interval, or for the first token, which goes out at the end of its turn.
    sink.push({ type: 'status', status: 'running', attempt: 1 });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await conn.xlen(jobEventsKey(ref(id))), 0);
    for (let i = 0; i < 6; i++) {
      sink.push({ type: 'token', index: i, text: `w${i}`, token_id: i });
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(await conn.xlen(jobEventsKey(ref(id))), 2, 'status and the first token');
    await new Promise((r) => setTimeout(r, 250));
    // Then one `tokens` entry for the five decode steps after it.
    assert.equal(await conn.xlen(jobEventsKey(ref(id))), 3);
    sink.push({ type: 'token', index: 6, text: 'w6', token_id: 6 });
    // The end is written at once, with the token before it, whatever the interval.
    const t0 = Date.now();
    await sink.end({ type: 'done' });
    assert.ok(Date.now() - t0 < 150);
    const c = collector((all) => all.at(-1)?.type === 'done');
    const sub = reader.subscribe(ref(id), '0', c.listener);
    await c.done;
    sub.close();
    assert.deepEqual(
      c.all.map((e) => (e.type === 'token' ? e.text : e.type)),
      ['status', 'w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'done'],
    );
    for (let i = 1; i < c.all.length; i++) {
      assert.ok(compareStreamIds(c.all[i - 1]!.id, c.all[i]!.id) < 0);
    }
  });

  it("writes an ending job's events and a first token at once without flushing the other jobs' tokens early", async () => {
    const [ending, running] = [randomUUID(), randomUUID()];
    ids.push(ending, running);
    const publisher = new JobEventPublisher(conn, { ttlS: 60, flushMs: 300 });
    const [a, b] = [publisher.open(ref(ending), true), publisher.open(ref(running), true)];
    b.push({ type: 'token', index: 0, text: 'b0', token_id: 0 });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await conn.xlen(jobEventsKey(ref(running))), 1, 'a first token does not wait');
    b.push({ type: 'token', index: 1, text: 'b1', token_id: 1 });
    a.push({ type: 'token', index: 0, text: 'a0', token_id: 0 });
    a.push({ type: 'token', index: 1, text: 'a1', token_id: 1 });
    await a.end({ type: 'done' });
    // The end came within the first token's turn: both tokens are one entry, then done.
    assert.equal(await conn.xlen(jobEventsKey(ref(ending))), 2);
    assert.equal(await conn.xlen(jobEventsKey(ref(running))), 1, 'b1 still within the interval');
    b.push({ type: 'token', index: 2, text: 'b2', token_id: 2 });
    await new Promise((r) => setTimeout(r, 400));
    const entries = await conn.xrange(jobEventsKey(ref(running)), '-', '+');
    assert.equal(
      entries.length,
      2,
      "the other job's later two tokens are one entry, written on the interval",
    );
    b.close();
  });

  it('stretches the interval with the number of jobs a write carried, up to the maximum', async () => {
    const jobs = Array.from({ length: 100 }, () => randomUUID());
    ids.push(...jobs);
    const publisher = new JobEventPublisher(conn, { ttlS: 60, flushMs: 10, flushMaxMs: 40 });
    assert.equal(publisher.intervalMs(), 10);
    const sinks = jobs.map((id) => publisher.open(ref(id), true));
    sinks.forEach((s) => s.push({ type: 'status', status: 'running', attempt: 1 }));
    await publisher.send();
    // 100 jobs at 2,000 entries a second: 50 ms, held to the maximum.
    assert.equal(publisher.intervalMs(), 40);
    sinks.slice(0, 40).forEach((s) => s.push({ type: 'status', status: 'running', attempt: 2 }));
    await publisher.send();
    assert.equal(publisher.intervalMs(), 20);
    sinks.forEach((s) => s.close());
    // Without a maximum above flushMs, the interval never stretches.
    const fixed = new JobEventPublisher(conn, { ttlS: 60, flushMs: 10 });
    const more = jobs.map((id) => fixed.open(ref(id), true));
    more.forEach((s) => s.push({ type: 'status', status: 'running', attempt: 3 }));
    await fixed.send();
    assert.equal(fixed.intervalMs(), 10);
    more.forEach((s) => s.close());
  });

  it('writes nothing for an unwatched job, and everything produced so far once it is watched', async () => {
    const quiet = randomUUID();
    const late = randomUUID();
    ids.push(quiet, late);
    const publisher = new JobEventPublisher(conn, { ttlS: 60 });
    const sq = publisher.open(ref(quiet));
    const sl = publisher.open(ref(late));
    for (const s of [sq, sl]) {
      s.push({ type: 'status', status: 'running', attempt: 1 });
      for (let i = 0; i < 4; i++) s.push({ type: 'token', index: i, text: `t${i}`, token_id: i });
      await s.flush();
    }
    assert.equal(await conn.exists(jobEventsKey(ref(quiet)), jobEventsKey(ref(late))), 0);
    // The watch announcement may also arrive before the run opens its sink.
    publisher.watch(late);
    const early = randomUUID();
    ids.push(early);
    publisher.watch(early);
    const se = publisher.open(ref(early));
    se.push({ type: 'token', index: 0, text: 'e', token_id: 0 });
    await se.end({ type: 'done' });
    assert.equal(await conn.xlen(jobEventsKey(ref(early))), 2);

    for (let i = 4; i < 6; i++) sl.push({ type: 'token', index: i, text: `t${i}`, token_id: i });
    await Promise.all([sl.end({ type: 'done' }), sq.end({ type: 'done' })]);
    assert.equal(await conn.exists(jobEventsKey(ref(quiet))), 0);
    const c = collector((got) => got.at(-1)?.type === 'done');
    const sub = reader.subscribe(ref(late), '0', c.listener);
    await c.done;
    sub.close();
    assert.deepEqual(
      c.all.map((e) => (e.type === 'token' ? e.text : e.type)),
      ['status', 't0', 't1', 't2', 't3', 't4', 't5', 'done'],
    );
  });
});

describe('WebhookDeadLetters on real Redis', () => {
  it('adds, lists newest first, bounds and removes', async () => {
    const conn = createRedisConnection(REDIS_URL, 'producer', 'test-dead');
    // A private key space is not possible for fixed keys; use a tiny bound and remove what we add.
    const store = new WebhookDeadLetters(conn, 100_000);
    try {
      await waitForRedis(conn, 5000);
      const delivery = {
        webhook_id: 'msg_x',
        job_id: randomUUID(),
        url: 'http://127.0.0.1:1/hook',
        secret: 's'.repeat(16),
        body: '{}',
        created_at: Date.now(),
      };
      const a = await store.add({
        delivery,
        attempts: 3,
        last_status: 500,
        last_error: 'HTTP 500',
        failed_at: 1,
      });
      const b = await store.add({
        delivery,
        attempts: 3,
        last_status: null,
        last_error: 'refused',
        failed_at: Date.now() + 10_000_000,
      });
      const listed = await store.list(1);
      assert.equal(listed[0]?.id, b.id);
      assert.deepEqual(await store.get(a.id), a);
      assert.equal(await store.remove(a.id), true);
      assert.equal(await store.remove(a.id), false);
      assert.equal(await store.remove(b.id), true);
      assert.equal(await store.get(b.id), undefined);
    } finally {
      conn.disconnect();
    }
  });
});
