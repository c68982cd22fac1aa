import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { commandUsec, diffCounts, parseCommandStats, totalCount } from './command-stats';

const INFO = [
  '# Commandstats',
  'cmdstat_evalsha:calls=10,usec=500,usec_per_call=50.00,rejected_calls=0,failed_calls=0',
  'cmdstat_hset:calls=30,usec=90,usec_per_call=3.00,rejected_calls=0,failed_calls=0',
  'cmdstat_client|id:calls=2,usec=1,usec_per_call=0.50,rejected_calls=0,failed_calls=0',
  '',
].join('\r\n');

describe('INFO commandstats', () => {
  it('parses calls per command, sums several nodes and diffs two readings', () => {
    const one = parseCommandStats(INFO);
    assert.equal(one.get('evalsha'), 10);
    assert.equal(one.get('client|id'), 2);
    const two = parseCommandStats(INFO, parseCommandStats(INFO));
    assert.equal(two.get('hset'), 60);
    const d = diffCounts(one, two);
    assert.deepEqual(
      [...d.entries()],
      [
        ['evalsha', 10],
        ['hset', 30],
        ['client|id', 2],
      ],
    );
    assert.equal(totalCount(d), 42);
    assert.equal(commandUsec(INFO), 591);
  });
});
