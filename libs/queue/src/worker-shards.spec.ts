import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { WorkerShardsError, parseWorkerShards, shardsServed } from './worker-shards';

describe('parseWorkerShards', () => {
  it('treats empty and * as every shard of every model', () => {
    assert.equal(parseWorkerShards(undefined), 'all');
    assert.equal(parseWorkerShards(''), 'all');
    assert.equal(parseWorkerShards('*'), 'all');
  });

  it('parses ranges, single shards, unions and wildcards', () => {
    const sel = parseWorkerShards('tiny:0-1+4,tiny-embed:*,sim:3');
    assert.deepEqual(shardsServed(sel, 'tiny', 8), [0, 1, 4]);
    assert.deepEqual(shardsServed(sel, 'tiny-embed', 3), [0, 1, 2]);
    assert.deepEqual(shardsServed(sel, 'sim', 4), [3]);
    assert.deepEqual(shardsServed(sel, 'other', 4), []);
  });

  it('ignores shards beyond the model’s shard count', () => {
    assert.deepEqual(shardsServed(parseWorkerShards('tiny:0-9'), 'tiny', 2), [0, 1]);
  });

  it('names the bad entry', () => {
    assert.throws(
      () => parseWorkerShards('tiny:x'),
      (e: unknown) => e instanceof WorkerShardsError && /tiny:x/.test(e.message),
    );
    assert.throws(() => parseWorkerShards('tiny:3-1'), WorkerShardsError);
    assert.throws(() => parseWorkerShards('BAD MODEL:1'), WorkerShardsError);
  });
});
