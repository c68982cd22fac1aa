import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Sample } from '../load-generator';
import { compareRow, ROWS, sampleDocument } from './compare-fixtures';
import { summarizeCompare, toCompareRow, validateCompareDocument } from './compare-results';

const ok = (latencyMs: number, tokens?: number, ttftMs?: number): Sample => ({
  ok: true,
  latencyMs,
  tokens,
  ttftMs,
});

describe('bench compare rows and summary', () => {
  it('turns samples into a row: failures are errors, not latency; TTFT p50/p99 when streamed', () => {
    const r = toCompareRow(
      {
        samples: [ok(10, 5, 2), ok(20, 5, 4), ok(30, 5, 6), { ok: false, latencyMs: 1, error: 'x' }],
        elapsedMs: 2000,
      },
      { system: 'hotpath', workload: 'generate', load: { rate: 2 } },
    );
    assert.equal(r.mode, 'open');
    assert.equal(r.rate, 2);
    assert.equal(r.concurrency, null);
    assert.equal(r.throughput, 1.5);
    assert.equal(r.tokens_per_s, 7.5);
    assert.equal(r.p50_ms, 20);
    assert.equal(r.ttft_p50_ms, 4);
    assert.equal(r.ttft_p99_ms, 5.96);
    assert.deepEqual([r.requests, r.errors, r.elapsed_s], [4, 1, 2]);
    const e = toCompareRow(
      { samples: [ok(3)], elapsedMs: 1000 },
      { system: 'naive', workload: 'embed', load: { concurrency: 1 } },
    );
    assert.equal(e.tokens_per_s, null);
    assert.equal(e.ttft_p50_ms, null);
  });

  it('takes saturation as the best level of each system, open or closed, and computes the ratios', () => {
    const s = summarizeCompare(ROWS);
    assert.deepEqual(s.saturation_tokens_per_s, {
      'ort-direct': 1000,
      'transformers.js': 145,
      naive: 125,
      hotpath: 850,
    });
    assert.equal(s.ort_direct_best_concurrency, 16);
    assert.deepEqual(s.p50_ms_at_concurrency_1, {
      'ort-direct': 600,
      'transformers.js': 650,
      naive: 700,
      hotpath: 652,
    });
    assert.equal(s.efficiency_hotpath_vs_ort_direct, 0.85);
    assert.equal(s.hotpath_vs_naive, 6.8);
    assert.equal(s.hotpath_vs_transformers_js, 5.862);
    assert.deepEqual(s.targets, {
      hotpath_ge_80pct_of_ort_direct: true,
      hotpath_ge_5x_naive: true,
      hotpath_ge_5x_transformers_js: true,
      hotpath_p50_c1_le_transformers_js_plus_5ms: true,
      hotpath_ge_llama_cpp_single: null,
      hotpath_ge_llama_cpp_batched: null,
    });
    assert.deepEqual(s.fraction_of_compute_limit, {});
  });

  it('compares hotpath with llama.cpp single-stream and at 16 sequences, and against the compute limit', () => {
    const rows = [
      ...ROWS,
      compareRow('llama.cpp', { concurrency: 1 }, 125, 500),
      compareRow('llama.cpp', { concurrency: 16 }, 900, 1500),
    ];
    const s = summarizeCompare(rows, 10_000);
    assert.deepEqual(s.tokens_per_s_at_concurrency_1, {
      'ort-direct': 150,
      'llama.cpp': 125,
      'transformers.js': 140,
      naive: 120,
      hotpath: 130,
    });
    assert.deepEqual(s.tokens_per_s_at_concurrency_16, {
      'ort-direct': 1000,
      'llama.cpp': 900,
      hotpath: 700,
    });
    assert.equal(s.hotpath_vs_llama_cpp, 0.944);
    assert.equal(s.targets.hotpath_ge_llama_cpp_single, true);
    // hotpath's saturation (850, open loop) is below llama.cpp's 900 at 16 sequences.
    assert.equal(s.targets.hotpath_ge_llama_cpp_batched, false);
    assert.equal(s.fraction_of_compute_limit.hotpath, 0.085);
    assert.equal(s.fraction_of_compute_limit['llama.cpp'], 0.09);
  });

  it('leaves ratios and targets null when a system is missing', () => {
    const s = summarizeCompare(ROWS.filter((r) => r.system !== 'transformers.js'));
    assert.equal(s.hotpath_vs_transformers_js, null);
    assert.equal(s.targets.hotpath_ge_5x_transformers_js, null);
    assert.equal(s.targets.hotpath_p50_c1_le_transformers_js_plus_5ms, null);
    assert.equal(s.saturation_tokens_per_s['transformers.js'], undefined);
  });
});

describe('bench compare JSON schema', () => {
  it('accepts a well-formed document (also after a JSON round trip)', () => {
    const doc = JSON.parse(JSON.stringify(sampleDocument(ROWS))) as unknown;
    assert.deepEqual(validateCompareDocument(doc), []);
  });

  it('names each problem of a malformed document', () => {
    const doc = JSON.parse(JSON.stringify(sampleDocument(ROWS))) as Record<string, unknown>;
    const results = doc['results'] as Record<string, unknown>[];
    (results[0] as Record<string, unknown>)['system'] = 'vllm';
    (results[1] as Record<string, unknown>)['rate'] = 3; // and concurrency 16
    (results[2] as Record<string, unknown>)['p99_ms'] = 'slow';
    ((doc['summary'] as Record<string, unknown>)['saturation_tokens_per_s'] as Record<string, unknown>)['x'] =
      1;
    delete doc['notes'];
    assert.deepEqual(validateCompareDocument(doc), [
      'results[0].system unknown',
      'results[1] needs exactly one of concurrency and rate',
      'results[2].p99_ms is not a number or null',
      'summary.saturation_tokens_per_s has unknown system x',
      'notes is not an array',
    ]);
    assert.deepEqual(validateCompareDocument(null), ['document is not an object']);
  });
});
