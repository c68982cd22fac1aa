import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { percentile, ratioInterval95, summarize, tQuantile975 } from './stats';
import { closedLoop, openLoop } from './load-generator';
import { lineChartSvg } from './svg-chart';

describe('bench statistics', () => {
  it('interpolates percentiles like numpy', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(xs, 50), 5.5);
    assert.equal(percentile(xs, 0), 1);
    assert.equal(percentile(xs, 100), 10);
    assert.ok(Math.abs((percentile(xs, 99) ?? 0) - 9.91) < 1e-9);
    assert.equal(percentile([], 50), null);
    assert.deepEqual(summarize([3, 1, 2]).p50, 2);
  });

  it('gives Student’s t from its table and close to the exact value beyond it', () => {
    assert.equal(tQuantile975(1), 12.706);
    assert.equal(tQuantile975(23), 2.069);
    assert.ok(Math.abs(tQuantile975(60) - 2.0003) < 0.005);
    assert.ok(Math.abs(tQuantile975(120) - 1.9799) < 0.005);
    assert.ok(Number.isNaN(tQuantile975(0)));
  });

  it('puts a 95 % interval around the geometric mean of paired ratios', () => {
    // log ratios ±0.1 around log 0.9: sd 0.1069 (n-1), half width 2.365 × 0.1069 / √8 = 0.0894.
    const ratios = [1, -1, 1, -1, 1, -1, 1, -1].map((s) => 0.9 * Math.exp(0.1 * s));
    const ci = ratioInterval95(ratios);
    assert.ok(ci);
    assert.ok(Math.abs(ci.estimate - 0.9) < 1e-12);
    assert.ok(Math.abs(ci.low - 0.9 * Math.exp(-0.0894)) < 1e-3);
    assert.ok(Math.abs(ci.high - 0.9 * Math.exp(0.0894)) < 1e-3);
    const flat = ratioInterval95([0.95, 0.95]);
    assert.ok(flat && Math.abs(flat.low - 0.95) < 1e-12 && Math.abs(flat.high - 0.95) < 1e-12);
    assert.equal(ratioInterval95([0.9]), null);
    assert.equal(ratioInterval95([0.9, 0]), null);
  });
});

describe('load generators', () => {
  it('closed loop keeps exactly `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const r = await closedLoop({
      concurrency: 4,
      durationMs: 60_000,
      maxRequests: 40,
      send: async (origin) => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((res) => setTimeout(res, 2));
        inFlight--;
        return { ok: true, latencyMs: performance.now() - origin };
      },
    });
    assert.equal(r.samples.length, 40);
    assert.equal(peak, 4);
  });

  it('open loop measures latency from the intended send time (no coordinated omission)', async () => {
    // A server that stalls every request until 100 ms after the run started: requests intended
    // for t=0..90 ms must report latencies that include the time they were held back.
    const start = performance.now();
    const r = await openLoop({
      rate: 100,
      durationMs: 100,
      send: async (intended) => {
        const until = start + 100;
        await new Promise((res) => setTimeout(res, Math.max(0, until - performance.now())));
        return { ok: true, latencyMs: performance.now() - intended };
      },
    });
    assert.equal(r.samples.length, 10);
    const first = r.samples[0]!.latencyMs;
    assert.ok(first >= 95, `the first request waited ~100 ms, measured ${first}`);
  });
});

describe('lineChartSvg', () => {
  it('renders every series with a legend', () => {
    const svg = lineChartSvg({
      title: 'latency <vs> throughput',
      xLabel: 'jobs/s',
      yLabel: 'p50 ms',
      series: [
        {
          name: 'on',
          points: [
            { x: 1, y: 2 },
            { x: 3, y: 4 },
          ],
        },
        { name: 'off', points: [{ x: 1, y: 5 }] },
      ],
    });
    assert.match(svg, /^<svg/);
    assert.match(svg, /latency &lt;vs&gt; throughput/);
    assert.equal((svg.match(/<path /g) ?? []).length, 2);
  });
});
