import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { chartSeries, formatTable, saturation, summaryLines, toRow, type BenchRow } from './bench-results';
import type { Sample } from './load-generator';
import { promValue } from './prom-text';

const ok = (latencyMs: number, tokens?: number, ttftMs?: number): Sample => ({
  ok: true,
  latencyMs,
  tokens,
  ttftMs,
});

describe('bench result rows', () => {
  it('computes throughput, tokens/s, percentiles and the mean batch size of a closed-loop level', () => {
    const samples = [
      ok(10, 4),
      ok(20, 4),
      ok(30, 4),
      ok(40, 4),
      { ok: false, latencyMs: 5, error: 'HTTP 429' },
    ];
    const row = toRow(
      { samples, elapsedMs: 2000 },
      {
        scenario: 'sim',
        mode: 'on',
        load: { concurrency: 4 },
        generates: true,
        batch: { sum: 12, count: 4 },
      },
    );
    assert.deepEqual(row, {
      scenario: 'sim',
      mode: 'on',
      concurrency: 4,
      rate: null,
      throughput: 2,
      tokens_per_s: 8,
      p50_ms: 25,
      p95_ms: 38.5,
      p99_ms: 39.7,
      ttft_p50_ms: null,
      mean_batch_size: 3,
      requests: 5,
      errors: 1,
    });
  });

  it('leaves what does not apply null: tokens for embed, batch size without samples, concurrency in open loop', () => {
    const row = toRow(
      { samples: [ok(5, undefined, 2), ok(7, undefined, 4)], elapsedMs: 1000 },
      { scenario: 'embed', mode: 'off', load: { rate: 50 }, generates: false, batch: { sum: 0, count: 0 } },
    );
    assert.equal(row.concurrency, null);
    assert.equal(row.rate, 50);
    assert.equal(row.tokens_per_s, null);
    assert.equal(row.mean_batch_size, null);
    assert.equal(row.ttft_p50_ms, 3);
  });

  it('has null latencies when nothing completed', () => {
    const row = toRow(
      { samples: [{ ok: false, latencyMs: 1 }], elapsedMs: 1000 },
      { scenario: 'sim', mode: 'off', load: { concurrency: 1 }, generates: true, batch: undefined },
    );
    assert.equal(row.throughput, 0);
    assert.equal(row.p50_ms, null);
    assert.equal(row.errors, 1);
  });
});

const row = (p: Partial<BenchRow>): BenchRow => ({
  scenario: 'sim',
  mode: 'off',
  concurrency: 1,
  rate: null,
  throughput: 10,
  tokens_per_s: null,
  p50_ms: 10,
  p95_ms: 12,
  p99_ms: 13,
  ttft_p50_ms: null,
  mean_batch_size: 1,
  requests: 10,
  errors: 0,
  ...p,
});

describe('bench reporting', () => {
  const rows = [
    row({}),
    row({ concurrency: 16, throughput: 100, p50_ms: 160 }),
    row({ mode: 'on', p50_ms: 10.5 }),
    row({ mode: 'on', concurrency: null, rate: 400, throughput: 380, p50_ms: 40, mean_batch_size: 12.5 }),
  ];

  it('finds the saturation row of a scenario and mode', () => {
    assert.equal(saturation(rows, 'sim', 'on')?.throughput, 380);
    assert.equal(saturation(rows, 'embed', 'on'), undefined);
  });

  it('formats an aligned table with a header, one line per row', () => {
    const lines = formatTable(rows).split('\n');
    assert.equal(lines.length, 2 + rows.length);
    assert.match(lines[0] ?? '', /^scenario\s+mode\s+load\s+jobs\/s/);
    assert.match(lines[1] ?? '', /^-+\s+-+/);
    assert.match(lines[5] ?? '', /^sim\s+on\s+r=400\/s\s+380\s+-\s+40\s+12\s+13\s+-\s+12\.5\s+0$/);
    const widths = new Set(lines.map((l) => l.length));
    assert.ok(widths.size <= 2, 'columns are aligned');
  });

  it('summarises the on/off ratios', () => {
    assert.deepEqual(summaryLines(rows), [
      'sim: saturation jobs/s on/off = 3.80x (380 vs 100)',
      'sim: concurrency-1 p50 on/off = 1.05 (10.5 vs 10 ms)',
    ]);
  });

  it('charts p50 versus throughput per scenario and mode', () => {
    const series = chartSeries(rows);
    assert.deepEqual(
      series.map((s) => [s.name, s.points.length]),
      [
        ['sim batching off', 2],
        ['sim batching on', 2],
      ],
    );
    assert.deepEqual(series[1]?.points[1], { x: 380, y: 40 });
  });
});

describe('Prometheus text', () => {
  const text = [
    '# HELP hotpath_batch_size Items per batch',
    'hotpath_batch_size_bucket{le="1",model="a"} 3',
    'hotpath_batch_size_sum{model="a"} 42.5',
    'hotpath_batch_size_count{model="a"} 10',
    'hotpath_batch_size_sum{model="b"} 7',
    'hotpath_batch_size_sum_extra{model="a"} 99',
    'process_cpu_seconds_total 1.5',
  ].join('\n');

  it('reads a labelled sample and ignores other series and longer names', () => {
    assert.equal(promValue(text, 'hotpath_batch_size_sum', { model: 'a' }), 42.5);
    assert.equal(promValue(text, 'hotpath_batch_size_count', { model: 'a' }), 10);
    assert.equal(promValue(text, 'hotpath_batch_size_sum'), 49.5);
    assert.equal(promValue(text, 'hotpath_batch_size_sum', { model: 'zzz' }), 0);
    assert.equal(promValue(text, 'process_cpu_seconds_total'), 1.5);
  });
});
