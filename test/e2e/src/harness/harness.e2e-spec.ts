import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createRedisConnection } from '@hotpath/queue';
import { ManagedProcess, pingRedis, RedisServer } from '@hotpath/e2e-harness';

// The harness itself: a private Redis keeps acknowledged writes across SHUTDOWN and SIGKILL, and
// managed processes are stopped with a SIGKILL fallback.

let redis: RedisServer | undefined;
after(async () => {
  await redis?.close();
});

test(
  'private redis-server keeps data across SHUTDOWN and SIGKILL on the same port',
  { timeout: 20_000 },
  async () => {
    redis = await RedisServer.start();
    const conn = createRedisConnection(redis.url, 'worker', 'e2e-harness-test');
    conn.on('error', () => undefined);
    try {
      await conn.set('k1', 'v1');
      await redis.stop();
      assert.notEqual(await pingRedis(redis.url), undefined);
      await redis.restart();
      assert.equal(await conn.get('k1'), 'v1');
      await conn.set('k2', 'v2');
      await redis.kill();
      await redis.restart();
      assert.equal(await conn.get('k2'), 'v2');
    } finally {
      conn.disconnect();
    }
  },
);

test('a process that ignores SIGTERM is SIGKILLed after the bounded wait', { timeout: 10_000 }, async () => {
  const p = ManagedProcess.start({
    name: 'stubborn',
    command: process.execPath,
    args: [
      '-e',
      "process.on('SIGTERM', () => console.log('ignored')); console.log('up'); setInterval(() => {}, 1000)",
    ],
    env: {},
    cwd: process.cwd(),
  });
  const deadline = Date.now() + 5000;
  while (!p.logs().includes('up') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const res = await p.stop({ timeoutMs: 300 });
  assert.equal(res.forced, true);
  assert.equal(res.signal, 'SIGKILL');
  assert.match(p.logs(), /ignored/);
});
