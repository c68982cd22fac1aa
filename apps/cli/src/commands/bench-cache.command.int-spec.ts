import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../testing/run-cli';

describe('hotpath bench cache (tiny run: forged tiny, real cluster)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cache-int-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('measures hits vs misses, coalescing and prefix TTFT, and writes the JSON report', async () => {
    const json = join(dir, 'cache.json');
    const { code, out, err } = await runCli(
      [
        'bench',
        'cache',
        '--preset',
        'tiny',
        '--misses',
        '2',
        '--hits',
        '20',
        '--concurrent',
        '20',
        '--pairs',
        '1',
        '--max-tokens',
        '32',
        '--out',
        json,
      ],
      { ...process.env, HOTPATH_DATA_DIR: join(dir, 'data'), CI: 'true' },
      90_000,
    );
    assert.equal(code, 0, `exit ${code}\n${out}\n${err}`);
    assert.match(out, /\(a\) result cache/);
    assert.match(out, /targets:/);
    const r = JSON.parse(readFileSync(json, 'utf8')) as Record<string, Record<string, unknown>> & {
      targets: { name: string; met: boolean; value: unknown }[];
    };
    assert.equal(r['scenario'] as unknown, 'cache');
    assert.equal(r.hit_latency?.['requests'], 20);
    assert.equal(r.hit_latency?.['all_hits'], true);
    for (const k of ['server_p50_ms', 'server_mean_ms', 'client_p50_ms'])
      assert.equal(typeof r.hit_latency?.[k], 'number', `hit_latency.${k}`);
    for (const k of ['server_p50_ms', 'server_mean_ms', 'client_p50_ms'])
      assert.equal(typeof r.miss_latency?.[k], 'number', `miss_latency.${k}`);
    assert.equal(typeof r['miss_over_hit'], 'number');
    assert.equal(r.coalescing?.['requests'], 20);
    assert.equal(r.coalescing?.['model_executions'], 1, 'identical concurrent requests ran the model once');
    assert.equal(r.coalescing?.['identical_results'], true);
    assert.equal(r.prefix_ttft?.['pairs'], 1);
    for (const k of ['cold_server_p50_ms', 'warm_server_p50_ms', 'speedup'])
      assert.equal(typeof r.prefix_ttft?.[k], 'number', `prefix_ttft.${k}`);
    assert.ok(
      (r.prefix_ttft?.['mean_warm_prefix_hit_tokens'] as number) >= 256,
      'the warm prompt reused 256+ tokens',
    );
    assert.equal(r.targets.length, 4);
    for (const t of r.targets) assert.equal(typeof t.met, 'boolean');
  });
});
