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

  it('adds throughputs and tokens, averages per-replica step, context, rows and the process’s CPU time', () => {
    const m = combineMeasures([
      {
        tokensPerS: 100,
        tokens: 800,
        cpuSeconds: 16,
        decodeTokensPerS: 150,
        stepMs: 2,
        meanContext: 100,
        meanDecodeBatch: 30,
      },
      {
        tokensPerS: 120,
        tokens: 960,
        cpuSeconds: 16.4,
        decodeTokensPerS: 170,
        stepMs: 4,
        meanContext: 110,
        meanDecodeBatch: 34,
      },
    ]);
    assert.deepEqual(m, {
      tokensPerS: 220,
      tokens: 1760,
      cpuSeconds: 16.2,
      decodeTokensPerS: 320,
      stepMs: 3,
      meanContext: 105,
      meanDecodeBatch: 32,
    });
  });
});
