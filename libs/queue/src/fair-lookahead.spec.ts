import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptiveLookahead } from './fair-lookahead';

/** A lookahead on a hand-moved clock: `starts` jobs started evenly over `ms`. */
function run(l: AdaptiveLookahead, clock: { t: number }, starts: number, ms: number): void {
  for (let i = 0; i < starts; i++) {
    clock.t += ms / starts;
    l.started();
  }
}

describe('AdaptiveLookahead', () => {
  it('stays at its floor before anything is measured', () => {
    const clock = { t: 0 };
    assert.equal(new AdaptiveLookahead(8, 64, () => clock.t).value, 8);
  });

  it('covers two rounds of consumption: rate x round time x 2, within floor and cap', () => {
    const clock = { t: 0 };
    const l = new AdaptiveLookahead(8, 64, () => clock.t);
    l.round(10);
    // 1 job per ms for a second: 10 ms rounds need 20 jobs.
    run(l, clock, 1000, 1000);
    assert.equal(l.value, 20);
    // Slower rounds need more, up to the cap.
    for (let i = 0; i < 30; i++) l.round(100);
    assert.equal(l.value, 64);
  });

  it('keeps a slow model at its floor', () => {
    const clock = { t: 0 };
    const l = new AdaptiveLookahead(1, 8, () => clock.t);
    // 40 jobs/s, 5 ms rounds: 0.4 jobs per two rounds.
    l.round(5);
    run(l, clock, 40, 1000);
    assert.equal(l.value, 1);
  });

  it('shrinks back when consumption stops', () => {
    const clock = { t: 0 };
    const l = new AdaptiveLookahead(8, 64, () => clock.t);
    l.round(10);
    run(l, clock, 2000, 1000);
    assert.ok(l.value > 8);
    for (let i = 0; i < 20; i++) {
      clock.t += 300;
      l.started();
    }
    assert.equal(l.value, 8);
  });

  it('is fixed when the cap is not above the floor (a configured lookahead)', () => {
    const clock = { t: 0 };
    const l = new AdaptiveLookahead(4, 4, () => clock.t);
    l.round(50);
    run(l, clock, 5000, 1000);
    assert.equal(l.value, 4);
  });
});
