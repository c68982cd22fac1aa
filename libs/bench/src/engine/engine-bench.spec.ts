import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { gflopsAt } from './engine-bench';

describe('gflopsAt', () => {
  const roofline = {
    gemm: [
      { rows: 1, gflops: 50 },
      { rows: 16, gflops: 360 },
      { rows: 64, gflops: 280 },
      { rows: 256, gflops: 400 },
    ],
  };

  it('interpolates log-linearly between measured row counts', () => {
    assert.equal(gflopsAt(roofline, 1), 50);
    assert.equal(gflopsAt(roofline, 4), 205);
    assert.equal(gflopsAt(roofline, 512), 400);
  });

  it('never reports fewer FLOP/s for more rows than were measured at fewer rows', () => {
    assert.equal(gflopsAt(roofline, 64), 360, 'the slow 64-row pass does not lower the limit');
    assert.equal(gflopsAt(roofline, 32), 360);
    assert.equal(gflopsAt(roofline, 128), 380);
  });
});
