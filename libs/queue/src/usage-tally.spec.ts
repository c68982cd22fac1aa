import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageTally } from './usage-tally';

const plain = (b: Map<string, Map<string, number>>) =>
  Object.fromEntries([...b].map(([k, f]) => [k, Object.fromEntries(f)]));

describe('UsageTally', () => {
  it('sums increments per hash and field, and skips zero amounts', () => {
    const t = new UsageTally();
    t.add('u:a:1', 'm/completed', 1);
    t.add('u:a:1', 'm/completed', 1);
    t.add('u:a:1', 'm/prompt_tokens', 7);
    t.add('u:a:2', 'm/completed', 1);
    t.add('u:b:1', 'm/failed', 0);
    assert.equal(t.size, 2);
    assert.deepEqual(plain(t.take()), {
      'u:a:1': { 'm/completed': 2, 'm/prompt_tokens': 7 },
      'u:a:2': { 'm/completed': 1 },
    });
    assert.equal(t.size, 0, 'take empties the tally');
    assert.deepEqual(plain(t.take()), {});
  });

  it('restores a failed batch on top of what was counted meanwhile, so no count is lost or doubled', () => {
    const t = new UsageTally();
    t.add('u:a:1', 'm/completed', 3);
    const failed = t.take();
    t.add('u:a:1', 'm/completed', 2);
    t.add('u:a:9', 'm/completed', 1);
    t.restore(failed);
    assert.deepEqual(plain(t.take()), { 'u:a:1': { 'm/completed': 5 }, 'u:a:9': { 'm/completed': 1 } });
  });

  it('drops the hashes a restore is told not to keep (past their retention)', () => {
    const t = new UsageTally();
    t.add('old', 'm/completed', 1);
    t.add('new', 'm/completed', 1);
    t.restore(t.take(), (k) => k !== 'old');
    assert.deepEqual(plain(t.take()), { new: { 'm/completed': 1 } });
  });
});
