import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { compareCharts, markdownReport, markdownTable, resultsTable, summaryTable } from './compare-report';
import { ROWS, sampleDocument } from './compare-fixtures';
import { summarizeCompare } from './compare-results';

describe('bench compare report', () => {
  it('renders Markdown tables with right-aligned number columns', () => {
    assert.equal(markdownTable(['a', 'b'], [['x', '1']]), '| a | b |\n| --- | ---: |\n| x | 1 |');
  });

  it('summarises each system: saturation, share of ort-direct, c=1 latency', () => {
    const table = summaryTable(sampleDocument(ROWS)).split('\n');
    assert.equal(table.length, 2 + 4);
    assert.equal(table[2], '| `ort-direct` | 1000 | 100% | 10 | 600 | 60 | 150 | 1000 | – | – |');
    assert.equal(table[5], '| `hotpath` | 850 | 85% | 8.5 | 652 | 65.2 | 130 | 700 | – | – |');
  });

  it('lists every level and writes a report with the ratios, notes and chart links', () => {
    assert.equal(resultsTable(ROWS).split('\n').length, 2 + ROWS.length);
    assert.match(resultsTable(ROWS), /\| `ort-direct` \| generate \| 8\/s open \|/);
    const doc = sampleDocument(ROWS);
    doc.notes.push('transformers.js: skipped');
    const md = markdownReport(doc, ['latency-vs-throughput.svg']);
    assert.match(md, /Efficiency hotpath \/ ort-direct: \*\*85%\*\*/);
    assert.match(md, /hotpath \/ naive: \*\*6\.80×\*\*/);
    assert.match(md, /- transformers\.js: skipped/);
    assert.match(md, /!\[latency-vs-throughput\.svg\]\(latency-vs-throughput\.svg\)/);
    assert.doesNotMatch(md, /## Roofline/);
  });

  it("states the roofline, each system's share of the compute limit and the llama.cpp token agreement", () => {
    const doc = sampleDocument(ROWS);
    doc.roofline = {
      gemm: [
        { rows: 1, gflops: 20 },
        { rows: 256, gflops: 150 },
      ],
      peak_gflops: 150,
      memory_bandwidth_gb_s: 25,
      gemv_bandwidth_gb_s: 30,
      flops_per_token: 60e6,
      mean_context: 100,
      compute_tokens_per_s: 2500,
      memory_tokens_per_s: 200,
      seconds: 4,
    };
    doc.summary = summarizeCompare(doc.results, 2500);
    doc.token_agreement_llama_cpp = {
      prompts: 4,
      identical: 3,
      max_tokens: 32,
      tokens_compared: 128,
      matching_prefix_tokens: 100,
      first_mismatch: { prompt: 2, position: 4, hotpath: 10, other: 11 },
    };
    const md = markdownReport(doc, []);
    assert.match(md, /## Roofline[\s\S]*20 @ 1 rows, 150 @ 256 rows; peak \*\*150 GFLOP\/s\*\*/);
    assert.match(md, /60\.0 MFLOP per token[\s\S]*compute limit \*\*2500 tokens\/s\*\*/);
    assert.match(
      md,
      /\*\*3\/4 identical\*\*, 100\/128 tokens[\s\S]*prompt 2, token 4 \(hotpath 10, llama\.cpp 11\)/,
    );
    assert.equal(
      summaryTable(doc).split('\n')[5],
      '| `hotpath` | 850 | 85% | 8.5 | 652 | 65.2 | 130 | 700 | 34.0% | – |',
    );
  });

  it('draws latency-vs-throughput and tokens-vs-concurrency charts with one series per system', () => {
    const charts = compareCharts(sampleDocument(ROWS));
    assert.deepEqual(
      charts.map((c) => c.file),
      ['latency-vs-throughput.svg', 'tokens-vs-concurrency.svg'],
    );
    for (const c of charts) {
      assert.match(c.svg, /^<svg /);
      for (const s of ['ort-direct', 'transformers.js', 'naive', 'hotpath'])
        assert.ok(c.svg.includes(`>${s}</text>`));
    }
  });
});
