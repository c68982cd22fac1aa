import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { histogramDelta, histogramQuantile, readHistogram } from './prom-histogram';

const scrape = (a: number, b: number, c: number): string =>
  [
    '# TYPE d histogram',
    `d_bucket{le="0.001",route="/v1/jobs",status="200"} ${a}`,
    `d_bucket{le="0.002",route="/v1/jobs",status="200"} ${b}`,
    `d_bucket{le="+Inf",route="/v1/jobs",status="200"} ${c}`,
    `d_sum{route="/v1/jobs",status="200"} ${c * 0.0015}`,
    `d_count{route="/v1/jobs",status="200"} ${c}`,
    'd_bucket{le="0.001",route="/other",status="200"} 100',
    'd_bucket{le="+Inf",route="/other",status="200"} 100',
    'd_count_total 5',
  ].join('\n');

describe('prom histogram', () => {
  it('reads matching series, subtracts scrapes and interpolates quantiles like histogram_quantile', () => {
    const before = readHistogram(scrape(1, 1, 1), 'd', { route: '/v1/jobs' });
    assert.deepEqual(before.buckets, [
      [0.001, 1],
      [0.002, 1],
      [Infinity, 1],
    ]);
    const after = readHistogram(scrape(5, 9, 11), 'd', { route: '/v1/jobs' });
    const d = histogramDelta(before, after);
    assert.equal(d.count, 10);
    assert.deepEqual(d.buckets, [
      [0.001, 4],
      [0.002, 8],
      [Infinity, 10],
    ]);
    assert.equal(histogramQuantile(d, 0.4), 0.001);
    assert.equal(histogramQuantile(d, 0.2), 0.0005);
    assert.equal(histogramQuantile(d, 0.6), 0.0015);
    assert.equal(histogramQuantile(d, 0.99), 0.002, '+Inf bucket → highest finite bound');
    assert.equal(histogramQuantile(histogramDelta(after, after), 0.5), null);
  });
});
