import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { fairHeldMessage, fairWaitingMessage, parseFairChannelMessage } from './fair-queue';

describe('fair-queue channel messages', () => {
  it('round-trips a waiting shard and a taken held slot, and refuses anything else', () => {
    assert.deepEqual(parseFairChannelMessage(fairWaitingMessage('sim-1.b_c', 12)), {
      kind: 'waiting',
      model: 'sim-1.b_c',
      shard: 12,
    });
    assert.deepEqual(parseFairChannelMessage(fairHeldMessage('sim-1.b_c', 3, 'acme.eu')), {
      kind: 'held',
      model: 'sim-1.b_c',
      shard: 3,
      tenant: 'acme.eu',
    });
    for (const bad of [
      '',
      'sim',
      'sim x',
      'sim -1',
      'sim 1.5',
      'sim 1 2',
      ' 1',
      'held sim 1',
      'held sim 1 a b',
    ])
      assert.equal(parseFairChannelMessage(bad), undefined, JSON.stringify(bad));
  });
});
