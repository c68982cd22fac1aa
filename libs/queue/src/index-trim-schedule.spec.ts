import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexTrimSchedule } from './index-trim-schedule';

describe('IndexTrimSchedule', () => {
  it('trims on the first insert into an index, then every n-th insert', () => {
    const s = new IndexTrimSchedule(4, 60_000);
    const trims = Array.from({ length: 10 }, (_, i) => s.insert('a', 1000 + i));
    assert.deepEqual(trims, [true, false, false, false, true, false, false, false, true, false]);
  });

  it('counts each index on its own', () => {
    const s = new IndexTrimSchedule(3, 60_000);
    assert.equal(s.insert('a', 0), true);
    assert.equal(s.insert('b', 0), true);
    assert.equal(s.insert('a', 1), false);
    assert.equal(s.insert('a', 2), false);
    assert.equal(s.insert('b', 3), false);
    assert.equal(s.insert('a', 4), true, 'a reached its third insert after a trim');
    assert.equal(s.insert('b', 5), false);
  });

  it('trims a rarely written index once the gap has passed, so its expiry is refreshed', () => {
    const s = new IndexTrimSchedule(100, 60_000);
    assert.equal(s.insert('a', 0), true);
    assert.equal(s.insert('a', 59_999), false);
    assert.equal(s.insert('a', 60_000), true);
    assert.equal(s.insert('a', 60_001), false, 'the gap counts from the last trim');
  });

  it('never lets more than n-1 inserts pass between two trims', () => {
    const n = 7;
    const s = new IndexTrimSchedule(n, Number.MAX_SAFE_INTEGER);
    let since = 0;
    for (let i = 0; i < 500; i++) {
      if (s.insert('k', i)) since = 0;
      else since++;
      assert.ok(since <= n - 1);
    }
  });
});
