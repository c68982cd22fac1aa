import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../testing/run-cli';

describe('hotpath bench tracing (tiny run: sim, real cluster, in-process OTLP receiver)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-tracing-int-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a tracing-off and a tracing-on cluster in alternating windows, receives spans only from the traced one', async () => {
    const json = join(dir, 'tracing.json');
    const { code, out, err } = await runCli(
      [
        'bench',
        'tracing',
        '--rounds',
        '1',
        '--duration-ms',
        '800',
        '--window-ms',
        '400',
        '--warmup-ms',
        '300',
        '--concurrency',
        '4',
        '--out',
        json,
      ],
      { ...process.env, HOTPATH_DATA_DIR: join(dir, 'data'), CI: 'true' },
      90_000,
    );
    assert.equal(code, 0, `exit ${code}\n${out}\n${err}`);
    assert.match(out, /on\/off = /);
    const r = JSON.parse(readFileSync(json, 'utf8')) as {
      scenario: string;
      runs: { mode: string; requests: number; throughput: number; errors: number; spans_received: number }[];
      pair_ratios: number[];
      ratio: number;
      cpu_ratio: number;
      target: { met: boolean };
    };
    assert.equal(r.scenario, 'tracing');
    assert.deepEqual(
      r.runs.map((x) => x.mode),
      ['off', 'on'],
    );
    for (const x of r.runs) {
      assert.ok(x.throughput > 0);
      assert.equal(x.errors, 0);
    }
    // The receiver's spans all come from the traced cluster (the other has no OTLP endpoint): at least
    // SERVER, PRODUCER and CONSUMER for each measured job, warm-up jobs and batch spans on top.
    const [off, on] = r.runs;
    assert.equal(off?.spans_received, 0);
    assert.ok(
      (on?.spans_received ?? 0) >= 3 * (on?.requests ?? Infinity),
      `${on?.spans_received} spans for ${on?.requests} traced jobs`,
    );
    assert.equal(r.pair_ratios.length, 2, 'two off/on window pairs of 400 ms in 800 ms');
    assert.equal(typeof r.ratio, 'number');
    assert.equal(typeof r.cpu_ratio, 'number', 'CPU per job from both processes');
    assert.equal(typeof r.target.met, 'boolean');
  });
});
