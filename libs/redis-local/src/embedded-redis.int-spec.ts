import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisServerOnPath, startEmbeddedRedis } from './embedded-redis';
import { pingRedis } from './redis-ping';

describe('embedded redis-server', () => {
  let dataDir: string;
  let available = false;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'hotpath-embedded-'));
    available = await redisServerOnPath();
  });

  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps acknowledged writes across a stop and start (AOF, SHUTDOWN on stop)', async (t) => {
    if (!available) return t.skip('redis-server is not on PATH');
    const first = await startEmbeddedRedis(dataDir);
    assert.equal(first.source, 'embedded');
    assert.match(first.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    const client = new Redis(first.url);
    await client.set('hp:test:durable', 'yes');
    client.disconnect();
    // Starting again while it runs adopts it instead of opening the same AOF twice.
    const again = await startEmbeddedRedis(dataDir);
    assert.equal(again.url, first.url);
    assert.match(again.description, /adopted/);
    await first.stop();
    assert.notEqual(await pingRedis(first.url, 300), undefined, 'stopped Redis still answers');
    assert.ok(existsSync(join(dataDir, 'redis', 'appendonlydir')));

    const second = await startEmbeddedRedis(dataDir);
    try {
      const c2 = new Redis(second.url);
      assert.equal(await c2.get('hp:test:durable'), 'yes');
      c2.disconnect();
    } finally {
      await second.stop();
    }
  });

  it('pingRedis explains why a Redis does not answer', async () => {
    assert.match((await pingRedis('redis://127.0.0.1:1', 500)) ?? '', /ECONNREFUSED|connect/i);
    assert.match((await pingRedis('http://x', 500)) ?? '', /redis:\/\//);
  });
});
