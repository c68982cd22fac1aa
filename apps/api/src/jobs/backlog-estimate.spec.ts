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

describe('BacklogEstimate far below the limit', () => {
  it('reads less often below half the limit, and at the short age again once near it', async () => {
    let now = 0;
    let reads = 0;
    const est = new BacklogEstimate(
      async () => {
        reads++;
        return 10;
      },
      20,
      () => now,
      1000,
    );
    assert.equal(await est.current('m', 1, 100), 10);
    now = 500;
    assert.equal(await est.current('m', 1, 100), 10);
    assert.equal(reads, 1, '10 of 100: far below, the read stays');
    for (let i = 0; i < 40; i++) est.accepted('m');
    assert.equal(await est.current('m', 1, 100), 10, 'own accepts brought it to half: read again');
    assert.equal(reads, 2);
    now = 1400;
    assert.equal(await est.current('m', 1, 100), 10);
    assert.equal(reads, 2);
    assert.equal(await est.current('m', 1), 10, 'without a limit the short age applies');
    assert.equal(reads, 3);
  });
});
