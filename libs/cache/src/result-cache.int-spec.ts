import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ResultCache } from './result-cache';
import { SingleFlight } from './single-flight';
import { ModelDigests } from './model-digests';
import { cacheKeys } from './cache-keys';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const entry = (text: string) => ({
  result: { text, tokens: [1], finish_reason: 'length' as const },
  usage: { prompt_tokens: 1, completion_tokens: 1 },
  modelDigest: 'd1',
  createdAt: Date.now(),
});

describe('cache on real Redis', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis(REDIS_URL);
  });
  after(() => redis.disconnect());

  it('stores, reads and expires entries', async () => {
    const model = `t-${randomUUID().slice(0, 8)}`;
    const cache = new ResultCache(redis);
    assert.equal(await cache.get(model, 'h1'), undefined);
    await cache.set(model, 'h1', entry('a'), { ttlS: 1, maxEntries: 10, maxEntryBytes: 10_000 });
    assert.equal(
      (await cache.get(model, 'h1'))?.result && 'text' in (await cache.get(model, 'h1'))!.result,
      true,
    );
    const ttl = await redis.pttl(cacheKeys.entry(model, 'h1'));
    assert.ok(ttl > 0 && ttl <= 1000);
    await cache.purge(model);
  });

  it('evicts the least recently used entries beyond max_entries', async () => {
    const model = `t-${randomUUID().slice(0, 8)}`;
    const cache = new ResultCache(redis);
    const bounds = { ttlS: 60, maxEntries: 3, maxEntryBytes: 10_000 };
    for (const h of ['a', 'b', 'c']) {
      await cache.set(model, h, entry(h), bounds);
      await new Promise((r) => setTimeout(r, 3));
    }
    await cache.get(model, 'a'); // touch a: b is now the oldest
    await new Promise((r) => setTimeout(r, 3));
    const { evicted } = await cache.set(model, 'd', entry('d'), bounds);
    assert.equal(evicted, 1);
    assert.equal(await cache.size(model), 3);
    assert.equal(await cache.get(model, 'b'), undefined);
    assert.ok(await cache.get(model, 'a'));
    assert.equal(
      await redis.exists(cacheKeys.entry(model, 'b')),
      0,
      'the evicted entry is deleted, not just unindexed',
    );
    await cache.purge(model);
  });

  it('keeps a model within max_entries × max_entry_bytes under a flood', async () => {
    const model = `t-${randomUUID().slice(0, 8)}`;
    const cache = new ResultCache(redis);
    const bounds = { ttlS: 60, maxEntries: 20, maxEntryBytes: 2048 };
    const big = await cache.set(model, 'huge', entry('x'.repeat(5000)), bounds);
    assert.equal(big.stored, false, 'an oversized result is not cached');
    for (let i = 0; i < 200; i++)
      await cache.set(model, `k${i}`, entry(`value ${i} ${'y'.repeat(500)}`), bounds);
    assert.equal(await cache.size(model), 20);
    let bytes = 0;
    for (const k of await redis.keys(`hp:cache:{m:${model}}:e:*`))
      bytes += (await redis.memory('USAGE', k)) ?? 0;
    assert.ok(bytes <= 20 * (2048 + 200), `entries use ${bytes} bytes`);
    assert.equal(await cache.purge(model), 20);
    assert.equal((await redis.keys(`hp:cache:{m:${model}}:*`)).length, 0);
  });

  it('single-flight: one leader, followers get its job, takeover only from the dead leader', async () => {
    const model = `t-${randomUUID().slice(0, 8)}`;
    const sf = new SingleFlight(redis, 5000);
    const claims = await Promise.all(['j1', 'j2', 'j3', 'j4'].map((j) => sf.claim(model, 'h', j)));
    const leaders = claims.filter((c) => c.kind === 'leader');
    assert.equal(leaders.length, 1);
    const leaderId = ['j1', 'j2', 'j3', 'j4'][claims.findIndex((c) => c.kind === 'leader')]!;
    for (const c of claims) if (c.kind === 'follower') assert.equal(c.jobId, leaderId);
    assert.equal(await sf.takeover(model, 'h', 'not-the-leader', 'j9'), false);
    assert.equal(await sf.takeover(model, 'h', leaderId, 'j9'), true);
    await sf.land(model, 'h', leaderId); // stale landing is a no-op
    assert.deepEqual(await sf.claim(model, 'h', 'j10'), { kind: 'follower', jobId: 'j9' });
    await sf.land(model, 'h', 'j9');
    assert.deepEqual(await sf.claim(model, 'h', 'j11'), { kind: 'leader' });
    await sf.land(model, 'h', 'j11');
  });

  it('publishes and reads model digests', async () => {
    const model = `t-${randomUUID().slice(0, 8)}`;
    const writer = new ModelDigests(redis);
    const reader = new ModelDigests(redis, 0);
    assert.equal(await reader.current(model), null);
    await writer.publish(model, 'sha256:abc');
    assert.equal(await reader.current(model), 'sha256:abc');
    await redis.del(cacheKeys.digest(model));
  });
});
