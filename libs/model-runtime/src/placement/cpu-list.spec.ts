import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { formatCpuList, parseCpuList } from './cpu-list';

describe('CPU lists', () => {
  it('parses single CPUs and ranges, sorted and without repeats', () => {
    assert.deepEqual(parseCpuList('0'), [0]);
    assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
    assert.deepEqual(parseCpuList('5,1-2,2'), [1, 2, 5]);
  });

  it('refuses anything else rather than read it as every CPU', () => {
    for (const bad of ['', 'a', '1-', '-1', '3-1', '1,,2', '0x1']) {
      assert.throws(() => parseCpuList(bad), /not a CPU list/, bad);
    }
  });

  it('formats the shortest list, collapsing runs of three or more', () => {
    assert.equal(formatCpuList([0]), '0');
    assert.equal(formatCpuList([0, 1]), '0,1');
    assert.equal(formatCpuList([3, 0, 1, 2, 8, 10, 11, 12, 8]), '0-3,8,10-12');
    for (const list of ['0-3,8,10-12', '1,3', '0-63']) assert.equal(formatCpuList(parseCpuList(list)), list);
  });
});
