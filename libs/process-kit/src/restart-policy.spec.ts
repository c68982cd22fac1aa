import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { RestartPolicy } from './restart-policy';

describe('RestartPolicy', () => {
  const limits = { maxRestarts: 3, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 3000 };

  it('backs off exponentially up to the cap, then gives up on a crash loop', () => {
    const p = new RestartPolicy(limits);
    assert.deepEqual(p.onCrash(0), { restart: true, delayMs: 1000, attempt: 1 });
    assert.deepEqual(p.onCrash(5000), { restart: true, delayMs: 2000, attempt: 2 });
    assert.deepEqual(p.onCrash(10_000), { restart: true, delayMs: 3000, attempt: 3 });
    const last = p.onCrash(20_000);
    assert.equal(last.restart, false);
    assert.match(last.restart ? '' : last.reason, /4 times within 60 s/);
  });

  it('forgets crashes older than the window', () => {
    const p = new RestartPolicy(limits);
    p.onCrash(0);
    p.onCrash(1000);
    p.onCrash(2000);
    assert.deepEqual(p.onCrash(120_000), { restart: true, delayMs: 1000, attempt: 1 });
  });
});
