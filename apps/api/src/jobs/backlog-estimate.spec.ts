import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BacklogEstimate } from './backlog-estimate';

describe('BacklogEstimate', () => {
  it('reads Redis at most once per window, adding the jobs this process accepted meanwhile', async () => {
    let now = 1000;
    let reads = 0;
    let redisBacklog = 3;
    const est = new BacklogEstimate(
      async () => {
        reads++;
        return redisBacklog;
      },
      20,
      () => now,
    );
    assert.equal(await est.current('m', 2), 3);
    est.accepted('m');
    est.accepted('m');
    now += 10;
    assert.equal(await est.current('m', 2), 5, 'accepted jobs count before the next read');
    assert.equal(reads, 1);
    redisBacklog = 1; // workers drained some
    now += 15;
    assert.equal(await est.current('m', 2), 1, 'a fresh read after the window');
    assert.equal(reads, 2);
  });

  it('shares one read between concurrent checks, and a failed read is retried by the next check', async () => {
    let reads = 0;
    let fail = true;
    const est = new BacklogEstimate(async () => {
      reads++;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('redis down');
      return 7;
    }, 20);
    const both = await Promise.allSettled([est.current('m', 1), est.current('m', 1)]);
    assert.deepEqual(
      both.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(reads, 1);
    fail = false;
    assert.equal(await est.current('m', 1), 7);
    assert.equal(reads, 2);
  });
});
