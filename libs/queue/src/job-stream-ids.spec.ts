import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { decodeJobEvents, encodeJobEvent } from './job-event-stream';
import { compareStreamIds, isStreamId, streamReadCursor, tokenEventId } from './job-stream-ids';

describe('job stream event ids', () => {
  it('accepts entry ids and token ids, nothing else', () => {
    for (const ok of ['0', '1712345678901-0', '1712345678901-12.3']) assert.ok(isStreamId(ok), ok);
    for (const bad of ['', '-', 'abc', '1-2-3', '1.2.3', '1-0.', '$', '1-0.1234567'])
      assert.ok(!isStreamId(bad), bad);
  });

  it('refuses ids beyond the unsigned 64-bit range of Redis (XREAD would fail on them)', () => {
    assert.ok(isStreamId('18446744073709551615-18446744073709551615'));
    for (const bad of ['99999999999999999999-0', '18446744073709551616', '1-18446744073709551616'])
      assert.ok(!isStreamId(bad), bad);
  });

  it('orders tokens inside an entry before the entry id, and entries by time then sequence', () => {
    const ordered = ['0', '5-0', '5-1.0', '5-1.1', '5-1', '5-2.0', '5-2', '6-0.9', '6-0', '10-0'];
    for (let i = 1; i < ordered.length; i++) {
      assert.equal(compareStreamIds(ordered[i - 1]!, ordered[i]!), -1, `${ordered[i - 1]} < ${ordered[i]}`);
      assert.equal(compareStreamIds(ordered[i]!, ordered[i - 1]!), 1);
    }
    assert.equal(compareStreamIds('5-1.2', '5-1.2'), 0);
    assert.equal(compareStreamIds('5', '5-0'), 0);
  });

  it('orders ids as their 64-bit numbers do, whatever their digits (leading zeros, beyond 2^53)', () => {
    const reference = (a: string, b: string): number => {
      const parts = (id: string): [bigint, bigint, number] => {
        const [entry = '0', sub] = id.split('.');
        const [ms = '0', seq = '0'] = entry.split('-');
        return [BigInt(ms), BigInt(seq), sub === undefined ? Infinity : Number(sub)];
      };
      const [x, y] = [parts(a), parts(b)];
      for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) < (y[i] as number) ? -1 : 1;
      return 0;
    };
    const pool = [
      '0',
      '00',
      '007',
      '7-0',
      '7-00',
      '9007199254740993-1',
      '9007199254740992-18446744073709551615',
    ];
    const ids = pool.flatMap((e) => [e, `${e}.0`, `${e}.10`, `${e}.9`]);
    for (const a of ids)
      for (const b of ids) assert.equal(compareStreamIds(a, b), reference(a, b), `${a} vs ${b}`);
  });

  it('reads a partly delivered entry again: the cursor before it', () => {
    assert.equal(streamReadCursor('7-3'), '7-3');
    assert.equal(streamReadCursor('7-3.1'), '7-2');
    assert.equal(streamReadCursor('7-0.1'), '6-18446744073709551615');
    assert.equal(streamReadCursor('0-0.1'), '0');
    assert.equal(tokenEventId('7-3', 0, 3), '7-3.0');
    assert.equal(tokenEventId('7-3', 2, 3), '7-3');
  });

  it('expands a tokens entry into token events with their ids; skips unknown and malformed entries', () => {
    const tokens = [0, 1, 2].map((i) => ({ index: i, text: `t${i}`, token_id: 10 + i }));
    const fields = encodeJobEvent({ type: 'tokens', tokens });
    assert.deepEqual(decodeJobEvents('9-1', fields), [
      { id: '9-1.0', type: 'token', index: 0, text: 't0', token_id: 10 },
      { id: '9-1.1', type: 'token', index: 1, text: 't1', token_id: 11 },
      { id: '9-1', type: 'token', index: 2, text: 't2', token_id: 12 },
    ]);
    assert.deepEqual(
      decodeJobEvents('9-2', encodeJobEvent({ type: 'token', index: 4, text: 'x', token_id: 1 })),
      [{ id: '9-2', type: 'token', index: 4, text: 'x', token_id: 1 }],
    );
    assert.deepEqual(decodeJobEvents('9-3', ['type', 'future', 'data', '{}']), []);
    assert.deepEqual(decodeJobEvents('9-4', ['type', 'tokens', 'data', '{"tokens":[{"index":"x"}]}']), []);
    assert.deepEqual(decodeJobEvents('9-5', ['type', 'done', 'data', 'not json']), []);
  });
});
