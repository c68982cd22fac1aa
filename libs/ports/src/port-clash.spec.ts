import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { retryOnPortClash } from './port-clash';

/** A start that fails with each of `failures` in turn, then answers its attempt number. */
function flaky(failures: Error[]): { start: () => Promise<number>; attempts: () => number } {
  let n = 0;
  return {
    start: async () => {
      const err = failures[n++];
      if (err) throw err;
      return n;
    },
    attempts: () => n,
  };
}

describe('retryOnPortClash', () => {
  it('tries again on EADDRINUSE and returns what the next attempt started', async () => {
    const f = flaky([new Error('api exited: listen EADDRINUSE: address already in use 127.0.0.1:4100')]);
    assert.equal(await retryOnPortClash(f.start), 2);
  });

  it('throws any other failure at once', async () => {
    const f = flaky([new Error('config invalid')]);
    await assert.rejects(retryOnPortClash(f.start), /config invalid/);
    assert.equal(f.attempts(), 1);
  });

  it('gives up after the last try with the last clash', async () => {
    const f = flaky([1, 2, 3].map((i) => new Error(`EADDRINUSE #${i}`)));
    await assert.rejects(retryOnPortClash(f.start), /EADDRINUSE #3/);
    assert.equal(f.attempts(), 3);
  });

  it('takes its own clash test and number of tries', async () => {
    class Clash extends Error {}
    const f = flaky([new Clash('a'), new Clash('b'), new Clash('c'), new Clash('d')]);
    await assert.rejects(retryOnPortClash(f.start, { isClash: (e) => e instanceof Clash, tries: 4 }), /d/);
    assert.equal(f.attempts(), 4);
  });
});
