import { strict as assert } from 'node:assert';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { JobView } from '@hotpath/contracts';
import {
  ModelInputLimitsStore,
  createRedisConnection,
  encodeJobEvent,
  jobEventsKey,
  waitForRedis,
} from '@hotpath/queue';
import { call, startTestApi, testConfig, uniqueModel, type TestApi } from './testing/api-harness';
import { cleanupRedis } from './testing/redis-cleanup';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Tokens of 16 KiB pushed at a client that does not read: 3 MiB, under the old 4 MiB bound. */
const TOKENS = 192;

/** Resolves when the server closes `socket` (reading whatever it sent), or `false` after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  socket.resume();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once('close', done);
    socket.once('end', done);
  });
}

/** A raw connection that sends `head` and then nothing (or what the test writes). */
async function rawConnection(url: string, head: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(head);
  return socket;
}

describe('request limits (in-process API, real Redis, raw sockets)', () => {
  const gen = uniqueModel();
  const embed = uniqueModel();
  const models = [
    { name: gen, backend: 'sim' as const, tasks: ['generate' as const], shards: 1 },
    { name: embed, backend: 'sim' as const, tasks: ['embed' as const], shards: 1 },
  ];
  let api: TestApi;
  let conn: Redis;
  const ids = new Set<string>();

  before(async () => {
    api = await startTestApi(
      testConfig({
        redisUrl: REDIS_URL,
        cluster: {
          models,
          api: {
            max_body_bytes: 4 * 1024 * 1024,
            max_embed_chars: 100_000,
            sse_max_buffered_bytes: 16 * 1024,
            request_timeout_ms: 1000,
            idle_timeout_ms: 1000,
            max_wait_s: 0,
          },
        },
      }),
    );
    conn = createRedisConnection(REDIS_URL, 'producer', 'limits-int-spec');
    await waitForRedis(conn, 5000);
  });

  after(async () => {
    await api.close();
    await cleanupRedis(conn, models, ids);
    await conn.del(
      ...[...ids].map((id) => jobEventsKey({ id, model: gen, shard: 0 })),
      `hp:model:{m:${gen}}:input_limits`,
    );
    conn.disconnect();
  });

  it('refuses an embed request over api.max_embed_chars before it is queued', async () => {
    const texts = Array.from({ length: 120 }, () => 'x'.repeat(8192));
    const res = await call(`${api.url}/v1/jobs`, { body: { model: embed, task: 'embed', input: { texts } } });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(
      {
        code: (res.body['error'] as { code: string }).code,
        param: (res.body['error'] as { param: string }).param,
      },
      { code: 'invalid_request', param: 'input.texts' },
    );
  });

  it('refuses a prompt that cannot fit the context the workers published', async () => {
    await new ModelInputLimitsStore(conn).publish(gen, {
      context_tokens: 512,
      max_piece_bytes: 8,
      added_tokens: 1,
    });
    const long = await call(`${api.url}/v1/jobs`, {
      body: { model: gen, task: 'generate', input: { prompt: 'a'.repeat(32_768) } },
    });
    assert.equal(long.status, 400, long.text);
    assert.equal((long.body['error'] as { code: string }).code, 'invalid_input');
    const fits = await call<JobView>(`${api.url}/v1/jobs`, {
      body: { model: gen, task: 'generate', input: { prompt: 'a'.repeat(1000) } },
    });
    if (fits.body.id) ids.add(fits.body.id);
    assert.equal(fits.status, 202, fits.text);
  });

  it('closes a connection that sends its body too slowly, or stops halfway', async () => {
    const head = (len: number): string =>
      `POST /v1/jobs HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\n\r\n`;
    const slow = await rawConnection(api.url, head(1000));
    const timer = setInterval(() => slow.write(' '), 200);
    const stalled = await rawConnection(api.url, `${head(1000)}{"model":`);
    const silent = await rawConnection(api.url, '');
    try {
      const closed = await Promise.all([slow, stalled, silent].map((s) => closedWithin(s, 8000)));
      assert.deepEqual(closed, [true, true, true]);
    } finally {
      clearInterval(timer);
      for (const s of [slow, stalled, silent]) s.destroy();
    }
  });

  it('drops an SSE client that does not read once its unread bytes pass the bound', async () => {
    const sub = await call<JobView>(`${api.url}/v1/jobs`, {
      body: { model: gen, task: 'generate', input: { prompt: 'stream me' } },
    });
    assert.equal(sub.status, 202, sub.text);
    const id = sub.body.id;
    ids.add(id);
    const socket = await rawConnection(api.url, `GET /v1/jobs/${id}/events HTTP/1.1\r\nhost: x\r\n\r\n`);
    // Never read: the kernel buffers fill, then the API's own buffer for this client grows.
    socket.pause();
    const text = 'y'.repeat(16 * 1024);
    for (let i = 0; i < TOKENS; i++) {
      await conn.xadd(
        jobEventsKey({ id, model: gen, shard: 0 }),
        '*',
        ...encodeJobEvent({ type: 'token', index: i, text, token_id: 1 }),
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
    // Reading now drains what the kernel held; a dropped client then sees the end of the stream,
    // a kept one keeps receiving (the job never ends).
    let received = 0;
    socket.on('data', (b: Buffer) => (received += b.length));
    const closed = closedWithin(socket, 3000);
    try {
      assert.equal(await closed, true, `the slow SSE client was never dropped (read ${received} bytes)`);
      assert.ok(received < TOKENS * text.length, `read ${received} bytes: nothing was dropped`);
    } finally {
      socket.destroy();
    }
  });
});
