import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../testing/run-cli';

describe('hotpath bench batching (tiny run: sim only, real cluster)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-int-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('compares batching off and on and writes the JSON results and the chart', async () => {
    const json = join(dir, 'results.json');
    const svg = join(dir, 'chart.svg');
    const { code, out, err } = await runCli(
      [
        'bench',
        'batching',
        '--scenarios',
        'sim',
        '--levels',
        '4',
        '--rates',
        '40',
        '--duration-ms',
        '1200',
        '--out',
        json,
        '--svg',
        svg,
      ],
      { ...process.env, HOTPATH_DATA_DIR: join(dir, 'data'), CI: 'true' },
      90_000,
    );
    assert.equal(code, 0, `exit ${code}\n${out}\n${err}`);
    assert.match(out, /scenario\s+mode\s+load/);
    assert.match(out, /sim: saturation jobs\/s on\/off = /);

    const parsed = JSON.parse(readFileSync(json, 'utf8')) as { results: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(parsed), ['results']);
    assert.deepEqual(
      parsed.results.map((r) => [r['scenario'], r['mode'], r['concurrency'], r['rate']]),
      [
        ['sim', 'off', 4, null],
        ['sim', 'off', null, 40],
        ['sim', 'on', 4, null],
        ['sim', 'on', null, 40],
      ],
    );
    for (const r of parsed.results) {
      for (const k of ['throughput', 'tokens_per_s', 'p50_ms', 'p95_ms', 'p99_ms', 'mean_batch_size']) {
        assert.equal(typeof r[k], 'number', `${k} in ${JSON.stringify(r)}`);
      }
      assert.ok('ttft_p50_ms' in r);
      assert.ok((r['throughput'] as number) > 0);
      assert.equal(r['errors'], 0);
    }
    const off = parsed.results.filter((r) => r['mode'] === 'off');
    assert.ok(
      off.every((r) => r['mean_batch_size'] === 1),
      'batching off serves one job per call',
    );
    assert.match(readFileSync(svg, 'utf8'), /^<svg[^>]*>[\s\S]*sim batching on[\s\S]*<\/svg>\n$/);
  });
});
