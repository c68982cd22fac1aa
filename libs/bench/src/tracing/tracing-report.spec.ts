import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Sample } from '../load-generator';
import { parseTracingBenchOptions } from './tracing-bench-options';
import { buildTracingReport, formatTracingReport, tracingRun } from './tracing-report';

const served = (n: number, elapsedMs: number): { samples: Sample[]; elapsedMs: number } => ({
  samples: Array.from({ length: n }, (_, i) => ({ ok: true, latencyMs: 10 + (i % 10) })),
  elapsedMs,
});
const method = { concurrency: 32, durationMs: 4000, windowMs: 2000, pairs: 2, warmupMs: 1000 };

describe('tracing bench report', () => {
  it('sums a mode’s windows into one row per round, with CPU per job and the spans of the on cluster', () => {
    const row = tracingRun('on', 2, served(3000, 4000), { spans: 9000, requests: 18, cpuSeconds: 1.8 });
    assert.equal(row.throughput, 750);
    assert.equal(row.requests, 3000);
    assert.equal(row.errors, 0);
    assert.equal(row.cpu_ms_per_job, 0.6);
    assert.equal(row.spans_received, 9000);
  });

  it('compares mean throughputs against the target and reports every adjacent window pair', () => {
    const runs = [
      tracingRun('off', 1, served(4000, 4000), { spans: 0, requests: 0, cpuSeconds: 2 }),
      tracingRun('on', 1, served(3800, 4000), { spans: 11000, requests: 22, cpuSeconds: 2.09 }),
      tracingRun('off', 2, served(3000, 4000), { spans: 0, requests: 0, cpuSeconds: 1.5 }),
      tracingRun('on', 2, served(2600, 4000), { spans: 8000, requests: 16, cpuSeconds: 1.43 }),
    ];
    const r = buildTracingReport(runs, [0.97, 0.93, 0.9, 0.83], method);
    assert.equal(r.throughput_off, 875);
    assert.equal(r.throughput_on, 800);
    assert.equal(r.ratio, 0.914);
    assert.deepEqual(r.pair_ratios, [0.97, 0.93, 0.9, 0.83]);
    assert.equal(r.paired_ratio_median, 0.915);
    assert.deepEqual(r.pair_ratio_ci95, { estimate: 0.906, low: 0.816, high: 1.006 });
    assert.deepEqual(r.target, {
      name: 'throughput with tracing at 100% sampling / tracing off',
      target: '>= 0.9',
      value: 0.914,
      met: true,
    });
    assert.deepEqual([r.window_ms, r.pairs_per_round, r.warmup_ms, r.duration_ms], [2000, 2, 1000, 4000]);
    const text = formatTracingReport(r);
    assert.match(text, /on\/off = 0\.914/);
    assert.match(text, /adjacent window pairs: 4, on\/off median 0\.915, range 0\.83 – 0\.97/);
    assert.match(text, /geometric mean 0\.906, 95% CI 0\.816 – 1\.006/);
    assert.match(text, /^MET /m);
  });

  it('misses the target below 0.9 and has no ratio without an off run', () => {
    const off = tracingRun('off', 1, served(1000, 1000), { spans: 0, requests: 0, cpuSeconds: 0.5 });
    const on = tracingRun('on', 1, served(850, 1000), { spans: 2500, requests: 5, cpuSeconds: 0.5 });
    assert.equal(buildTracingReport([off, on], [0.85], method).target.met, false);
    const alone = buildTracingReport([on], [], method);
    assert.equal(alone.ratio, null);
    assert.equal(alone.target.met, false);
    assert.match(formatTracingReport(alone), /range -/);
  });
});

describe('tracing bench options', () => {
  const parse = (argv: string[]) => parseTracingBenchOptions(argv, { CI: 'true' }, false, '/tmp');

  it('cuts each mode’s measured time into alternating windows after a warm-up', () => {
    const full = parse([]);
    assert.deepEqual(
      [full.durationMs, full.windowMs, full.pairs, full.warmupMs, full.rounds],
      [16_000, 2000, 8, 5000, 3],
    );
    const quick = parse(['--quick']);
    assert.deepEqual([quick.durationMs, quick.pairs, quick.warmupMs, quick.rounds], [6000, 3, 3000, 1]);
  });

  it('caps the window at the measured time and keeps at least one pair', () => {
    const o = parse(['--duration-ms', '800', '--window-ms', '5000', '--warmup-ms', '0']);
    assert.deepEqual([o.windowMs, o.pairs, o.warmupMs], [800, 1, 0]);
  });

  it('rejects a window shorter than 200 ms', () => {
    assert.throws(() => parse(['--window-ms', '50']), /--window-ms must be an integer in 200\.\.600000/);
  });
});
