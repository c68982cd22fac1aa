import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { compareCharts, markdownReport, markdownTable, resultsTable, summaryTable } from './compare-report';
import { ROWS, sampleDocument } from './compare-fixtures';

describe('bench compare report', () => {
  it('renders Markdown tables with right-aligned number columns', () => {
    assert.equal(markdownTable(['a', 'b'], [['x', '1']]), '| a | b |\n| --- | ---: |\n| x | 1 |');
  });

  it('summarises each system: saturation, share of ort-direct, c=1 latency', () => {
    const table = summaryTable(sampleDocument(ROWS)).split('\n');
    assert.equal(table.length, 2 + 4);
    assert.equal(table[2], '| `ort-direct` | 1000 | 100% | 10 | 600 | 60 | – |');
    assert.equal(table[5], '| `hotpath` | 850 | 85% | 8.5 | 652 | 65.2 | – |');
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
