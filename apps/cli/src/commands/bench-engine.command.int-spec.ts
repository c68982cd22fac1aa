import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { runCli } from '../testing/run-cli';

// `hotpath bench engine` on the forged `tiny` model, as short as it goes: the report's shape, not
// its speed (no test fails because a machine was slow).

interface EngineReport {
  model: { replicas: number; threads: number; engine: string };
  roofline: { gemm: { rows: number; gflops: number }[] };
  replica_roofline: { gemm: unknown[] } | null;
  levels: { streams: number; tokens_per_s: number; decode_tokens_per_s: number; mean_decode_batch: number }[];
  targets: Record<string, { met: boolean | null }>;
}

describe('hotpath bench engine', () => {
  const env = { ...process.env, CI: 'true' };
  const quick = ['bench', 'engine', '--model', 'tiny', '--quick', '--seconds', '1', '--json'];

  it('runs one engine in-process and reports every level against the roofline', async () => {
    const { code, out, err } = await runCli(
      [...quick, '--streams', '1,2', '--replicas', '1', '--threads', '1'],
      env,
      180_000,
    );
    assert.equal(code, 0, err);
    const r = JSON.parse(out) as EngineReport;
    assert.equal(r.model.replicas, 1);
    assert.equal(r.model.threads, 1);
    assert.equal(r.replica_roofline, null);
    assert.deepEqual(
      r.levels.map((l) => l.streams),
      [1, 2],
    );
    for (const l of r.levels) assert.ok(l.tokens_per_s > 0 && l.decode_tokens_per_s > 0, JSON.stringify(l));
    assert.equal(r.roofline.gemm.length, 4);
    assert.ok('speedup_16_vs_1' in r.targets);
  });

  it('--replicas 2 runs two engines on their own threads and adds their throughput', async () => {
    const { code, out, err } = await runCli([...quick, '--streams', '4', '--replicas', '2'], env, 180_000);
    assert.equal(code, 0, err);
    const r = JSON.parse(out) as EngineReport;
    assert.equal(r.model.replicas, 2);
    assert.ok(r.model.threads >= 1);
    assert.equal(r.replica_roofline?.gemm.length, 4);
    const level = r.levels[0];
    assert.ok(level && level.tokens_per_s > 0, out);
    // Each replica decodes its own share of the four streams: at most two rows per forward.
    assert.ok(level.mean_decode_batch <= 2, `rows per replica forward: ${level.mean_decode_batch}`);
  });

  it('rejects a bad --replicas with a usage error', async () => {
    const { code, err } = await runCli(['bench', 'engine', '--replicas', '0'], env, 60_000);
    assert.equal(code, 2, err);
    assert.match(err, /--replicas/);
  });
});
