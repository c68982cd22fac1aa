import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { untilReady, type RedisClient } from './redis-connection';

describe('untilReady', () => {
  const client = (status: string): RedisClient =>
    Object.assign(new EventEmitter(), { status }) as unknown as RedisClient;

  it('resolves at once for a ready client', async () => {
    await untilReady(client('ready'));
  });

  it('waits for the ready event of a connecting client', async () => {
    const c = client('connecting');
    let done = false;
    const waiting = untilReady(c).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'not before ready');
    (c as unknown as EventEmitter).emit('ready');
    await waiting;
    assert.equal(done, true);
  });
});
