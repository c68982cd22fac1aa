import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { combineMeasures, splitStreams } from './engine-replicas';

describe('bench engine replicas: sharing a level out and adding it up', () => {
  it('splits streams as evenly as possible, the first replicas taking the remainder', () => {
    assert.deepEqual(splitStreams(64, 2), [32, 32]);
    assert.deepEqual(splitStreams(5, 2), [3, 2]);
    assert.deepEqual(splitStreams(1, 3), [1, 0, 0]);
    assert.deepEqual(splitStreams(7, 1), [7]);
  });

  it('adds throughputs and averages per-replica step, context and rows', () => {
    const m = combineMeasures([
      { tokensPerS: 100, decodeTokensPerS: 150, stepMs: 2, meanContext: 100, meanDecodeBatch: 30 },
      { tokensPerS: 120, decodeTokensPerS: 170, stepMs: 4, meanContext: 110, meanDecodeBatch: 34 },
    ]);
    assert.deepEqual(m, {
      tokensPerS: 220,
      decodeTokensPerS: 320,
      stepMs: 3,
      meanContext: 105,
      meanDecodeBatch: 32,
    });
  });
});
