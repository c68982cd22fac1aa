import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { clampWait, parsePreferWait, parseWaitQuery } from './prefer-header';

describe('parsePreferWait', () => {
  it('reads wait=N alone or among other preferences', () => {
    assert.equal(parsePreferWait('wait=10'), 10);
    assert.equal(parsePreferWait('respond-async, wait=5'), 5);
    assert.equal(parsePreferWait('WAIT = 3'), 3);
    assert.equal(parsePreferWait('wait="4"'), 4);
    assert.equal(parsePreferWait('wait=2; foo=bar'), 2);
    assert.equal(parsePreferWait(['return=minimal', 'wait=0']), 0);
  });

  it('ignores absent or malformed preferences', () => {
    for (const h of [
      undefined,
      '',
      'respond-async',
      'wait=',
      'wait=-1',
      'wait=1.5',
      'wait=abc',
      'waiting=3',
    ]) {
      assert.equal(parsePreferWait(h), undefined, String(h));
    }
  });
});

describe('parseWaitQuery', () => {
  it('accepts non-negative seconds, rejects the rest', () => {
    assert.equal(parseWaitQuery(undefined), undefined);
    assert.equal(parseWaitQuery('5'), 5);
    assert.equal(parseWaitQuery('0.25'), 0.25);
    for (const v of ['', '-1', 'x', '1e3', ['1']]) assert.equal(parseWaitQuery(v), null, String(v));
  });
});

describe('clampWait', () => {
  it('caps at the configured maximum', () => {
    assert.equal(clampWait(100, 60), 60);
    assert.equal(clampWait(3, 60), 3);
  });
});
