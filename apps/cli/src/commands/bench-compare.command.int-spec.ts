import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../testing/run-cli';
import {
  SYSTEMS,
  loadNodeLlamaCpp,
  transformersAvailable,
  validateCompareDocument,
  type CompareDocument,
} from '@hotpath/bench';

describe('hotpath bench compare (tiny run: forged tiny, every system, real cluster)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-compare-int-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('measures every system on both workloads and writes the JSON document and the report', async () => {
    const llamaCpp = typeof (await loadNodeLlamaCpp()) !== 'string';
    const json = join(dir, 'results.json');
    const report = join(dir, 'report');
    const { code, out, err } = await runCli(
      [
        'bench',
        'compare',
        '--model',
        'tiny',
        '--levels',
        '1,2',
        '--open-steps',
        '1',
        '--duration-ms',
        '500',
      ].concat([
        '--max-tokens',
        '4-8',
        '--prompts',
        '8',
        '--no-roofline',
        '--llama-threads',
        '1',
        '--out',
        json,
        '--report',
        report,
      ]),
      { ...process.env, HOTPATH_DATA_DIR: join(dir, 'data'), CI: 'true' },
      120_000,
    );
    assert.equal(code, 0, `exit ${code}\n${out}\n${err}`);
    assert.match(out, /\| system \| saturation tokens\/s \|/);
    assert.match(out, /hotpath\/ort-direct \d/);

    const doc = JSON.parse(readFileSync(json, 'utf8')) as CompareDocument;
    assert.deepEqual(validateCompareDocument(doc), []);
    const ran = SYSTEMS.filter(
      (s) => (s !== 'transformers.js' || transformersAvailable()) && (s !== 'llama.cpp' || llamaCpp),
    );
    for (const system of ran) {
      // llama.cpp runs the decoder only: its embed workload is skipped with a note.
      for (const workload of system === 'llama.cpp'
        ? (['generate'] as const)
        : (['generate', 'embed'] as const)) {
        const rows = doc.results.filter((r) => r.system === system && r.workload === workload);
        assert.deepEqual(
          rows.map((r) => r.concurrency).filter((c) => c !== null),
          [1, 2],
          `${system} ${workload} closed-loop levels`,
        );
        assert.equal(rows.filter((r) => r.rate !== null).length, 1, `${system} ${workload} open-loop level`);
        for (const r of rows) {
          assert.equal(r.errors, 0, JSON.stringify(r));
          assert.ok(r.throughput > 0 && r.p50_ms !== null);
          if (workload === 'generate') assert.ok((r.tokens_per_s ?? 0) > 0);
        }
      }
      assert.equal(typeof doc.summary.saturation_tokens_per_s[system], 'number');
      assert.equal(typeof doc.summary.p50_ms_at_concurrency_1[system], 'number');
    }
    // In-process and streaming systems measure time to first token.
    assert.equal(typeof doc.summary.ttft_p50_ms_at_concurrency_1['ort-direct'], 'number');
    assert.equal(typeof doc.summary.efficiency_hotpath_vs_ort_direct, 'number');
    assert.equal(typeof doc.summary.hotpath_vs_naive, 'number');
    assert.equal(doc.roofline, null);
    if (llamaCpp) {
      assert.equal(typeof doc.summary.ttft_p50_ms_at_concurrency_1['llama.cpp'], 'number');
      assert.equal(typeof doc.summary.hotpath_vs_llama_cpp, 'number');
      assert.equal(typeof doc.summary.targets.hotpath_ge_llama_cpp_single, 'boolean');
      assert.equal(doc.token_agreement_llama_cpp?.prompts, 8);
      assert.ok(doc.notes.some((n) => n.startsWith('llama.cpp: cannot run the embed workload')));
      assert.match(out, /llama\.cpp greedy tokens: \d+\/8 prompts identical/);
    } else {
      assert.ok(doc.notes.some((n) => n.includes('`node-llama-cpp` cannot be imported')));
      assert.equal(doc.token_agreement_llama_cpp, null);
    }
    assert.deepEqual(doc.meta.model, {
      generate: 'tiny',
      embed: 'tiny-embed',
      generate_digest: doc.meta.model.generate_digest,
    });

    const md = readFileSync(join(report, 'report.md'), 'utf8');
    assert.match(md, /## Summary[\s\S]*\| `hotpath` \|/);
    for (const f of [
      'latency-vs-throughput.svg',
      'tokens-vs-concurrency.svg',
      'embed-latency-vs-throughput.svg',
    ]) {
      assert.ok(existsSync(join(report, f)), f);
      assert.match(readFileSync(join(report, f), 'utf8'), /^<svg[\s\S]*<\/svg>\n$/);
    }
  });

  it('rejects a bad flag with exit code 2', async () => {
    const { code, err } = await runCli(
      ['bench', 'compare', '--systems', 'vllm'],
      { ...process.env, CI: 'true' },
      20_000,
    );
    assert.equal(code, 2);
    assert.match(err, /--systems: unknown value "vllm"/);
  });
});
