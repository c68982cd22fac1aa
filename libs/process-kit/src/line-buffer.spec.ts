import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LineSplitter, TailBuffer } from './line-buffer';

describe('LineSplitter', () => {
  it('joins lines split across chunks and strips CR', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push('{"a":'), []);
    assert.deepEqual(s.push('1}\r\n{"b"'), ['{"a":1}']);
    assert.deepEqual(s.push(':2}\nlast'), ['{"b":2}']);
    assert.deepEqual(s.flush(), ['last']);
    assert.deepEqual(s.flush(), []);
  });
});

describe('TailBuffer', () => {
  it('keeps only the last lines', () => {
    const t = new TailBuffer(2);
    ['a', 'b', 'c'].forEach((l) => t.push(l));
    assert.deepEqual(t.toArray(), ['b', 'c']);
  });
});
