import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { fairWaitingMessage, parseFairWaitingMessage } from './fair-queue';

describe('fair-waiting announcements', () => {
  it('round-trips a shard and refuses anything else', () => {
    assert.deepEqual(parseFairWaitingMessage(fairWaitingMessage('sim-1.b_c', 12)), {
      model: 'sim-1.b_c',
      shard: 12,
    });
    for (const bad of ['', 'sim', 'sim x', 'sim -1', 'sim 1.5', 'sim 1 2', ' 1'])
      assert.equal(parseFairWaitingMessage(bad), undefined, JSON.stringify(bad));
  });
});
