import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../testing/run-cli';
import type { ModelEvalReport } from '@hotpath/bench';

describe('hotpath models quantize / prune / eval', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-optimize-'));
  const tiny = join(tmp, 'tiny');
  after(() => rmSync(tmp, { recursive: true, force: true }));
  before(async () => {
    const r = await runCli(
      ['models', 'forge', '--arch', 'llama', '--preset', 'tiny', '--out', tiny],
      process.env,
      60_000,
    );
    assert.equal(r.code, 0, r.err);
  });

  it('quantize writes a folder and reports what it did; bad flags are usage errors', async () => {
    const out = join(tmp, 'tiny-int4');
    const r = await runCli(
      ['models', 'quantize', tiny, '--out', out, '--method', 'int4-weight', '--json'],
      process.env,
      60_000,
    );
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out) as {
      spec: { method: string; block_size: number };
      bytesAfter: number;
      bytesBefore: number;
    };
    assert.equal(res.spec.method, 'int4-weight');
    assert.equal(res.spec.block_size, 32);
    assert.ok(res.bytesAfter < 0.5 * res.bytesBefore);
    const bad = await runCli(
      ['models', 'quantize', tiny, '--out', join(tmp, 'x'), '--method', 'int2'],
      process.env,
      30_000,
    );
    assert.equal(bad.code, 2);
    assert.match(
      bad.err,
      /--method must be one of int8-dynamic, int8-weight, int4-weight, fp16 \[invalid_argument\]/,
    );
    const block = await runCli(
      ['models', 'quantize', tiny, '--out', join(tmp, 'x'), '--method', 'int8-weight', '--block-size', '48'],
      process.env,
      30_000,
    );
    assert.equal(block.code, 2);
    assert.match(block.err, /--block-size/);
    const again = await runCli(
      ['models', 'quantize', out, '--out', join(tmp, 'y'), '--method', 'int8-weight'],
      process.env,
      30_000,
    );
    assert.equal(again.code, 1);
    assert.match(again.err, /already quantized \(int4-weight\).*\[invalid_model\]/);
  });

  it('prune reports the new shape; eval measures fidelity, speed and size against the reference', async () => {
    const pruned = join(tmp, 'tiny-pruned');
    const p = await runCli(['models', 'prune', tiny, '--out', pruned, '--ffn', '0.25'], process.env, 60_000);
    assert.equal(p.code, 0, p.err);
    assert.match(p.out, /FFN 176 → 136/);
    const bad = await runCli(
      ['models', 'prune', tiny, '--out', join(tmp, 'z'), '--ffn', '1.5'],
      process.env,
      30_000,
    );
    assert.equal(bad.code, 2);

    const json = join(tmp, 'eval.json');
    const text = join(tmp, 'heldout.txt');
    const e = await runCli(
      [
        'models',
        'eval',
        pruned,
        '--against',
        tiny,
        '--seconds',
        '1',
        '--prompts',
        '4',
        '--greedy-tokens',
        '8',
        '--write-text',
        text,
        '--out',
        json,
      ],
      process.env,
      240_000,
    );
    assert.equal(e.code, 0, e.err);
    // An exit 0 without the summary means the run ended with its work still pending (the event loop
    // ran dry): the stderr progress lines show how far it got.
    assert.match(e.out, /^perplexity /m, `exit ${e.code}, stdout:\n${e.out}\nstderr:\n${e.err}`);
    const r = JSON.parse(readFileSync(json, 'utf8')) as ModelEvalReport;
    assert.ok(r.fidelity.tokens > 100);
    assert.ok(
      r.fidelity.reference &&
        r.fidelity.reference.top1_agreement > 0 &&
        r.fidelity.reference.top1_agreement <= 1,
    );
    assert.ok(r.fidelity.reference.mean_kl >= 0);
    assert.equal(r.greedy?.prompts, 4);
    assert.ok(
      r.speed && r.speed.tokens_per_s_1 > 0 && r.speed.reference && r.speed.reference.tokens_per_s_16 > 0,
    );
    assert.ok(r.model.bytes < (r.reference?.bytes ?? 0));
    assert.deepEqual(r.model.pruning, { ffn: 0.25, heads: 0, layers: 0, score: 'weight-magnitude' });
    // The same seeds sample the same text: a kept fixture can be re-made.
    const again = await runCli(
      ['models', 'eval', tiny, '--seconds', '0', '--write-text', `${text}.2`],
      process.env,
      120_000,
    );
    assert.equal(again.code, 0, again.err);
    assert.equal(readFileSync(`${text}.2`, 'utf8'), readFileSync(text, 'utf8'));
  });
});
