import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { UsageError } from '@hotpath/cli-kit';
import { parseRedisCostOptions } from './redis-cost-options';

describe('hotpath bench redis-cost options', () => {
  it('defaults, quick, and the cluster flags', () => {
    const d = parseRedisCostOptions([], {}, false, '/w');
    assert.equal(d.jobs, 200);
    assert.equal(d.maxTokens, 16);
    assert.equal(d.redisCluster, false);
    assert.equal(parseRedisCostOptions(['--quick'], {}, false, '/w').jobs, 40);
    const c = parseRedisCostOptions(
      ['--redis-cluster', '--wait-replicas', '1', '--out', 'o.json'],
      {},
      false,
      '/w',
    );
    assert.equal(c.waitReplicas, 1);
    assert.equal(c.outFile, '/w/o.json');
  });

  it('refuses WAIT without replicas and a cluster with a given Redis', () => {
    for (const argv of [
      ['--wait-replicas', '1'],
      ['--redis-cluster', '--redis-url', 'redis://r:1'],
      ['--jobs', '0'],
    ]) {
      assert.throws(() => parseRedisCostOptions(argv, {}, false, '/w'), UsageError, argv.join(' '));
    }
  });
});
