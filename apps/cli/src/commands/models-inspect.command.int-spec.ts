import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../testing/run-cli';

describe('hotpath models inspect', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-inspect-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('reports the layout, shape, dtypes and tokenizer of an onnx-community folder', async () => {
    const dir = join(tmp, 'community');
    const forged = await runCli(
      ['models', 'forge', '--arch', 'llama', '--preset', 'tiny', '--out', dir],
      process.env,
      60_000,
    );
    assert.equal(forged.code, 0, forged.err);
    mkdirSync(join(dir, 'onnx'));
    renameSync(join(dir, 'model.onnx'), join(dir, 'onnx', 'model_q4.onnx'));
    unlinkSync(join(dir, 'hotpath.json'));
    const { code, out, err } = await runCli(['models', 'inspect', dir, '--json'], process.env, 60_000);
    assert.equal(code, 0, err);
    const r = JSON.parse(out) as Record<string, unknown>;
    assert.equal(r.servable, true);
    assert.equal(r.layout, 'onnx-community');
    assert.equal(r.onnxFile, 'onnx/model_q4.onnx');
    assert.equal(r.dtype, 'q4');
    assert.deepEqual(
      [
        r.kind,
        r.architecture,
        r.layers,
        r.heads,
        r.kvHeads,
        r.headDim,
        r.vocabSize,
        r.contextLength,
        r.ioDtype,
      ],
      ['decoder', 'LlamaForCausalLM', 5, 4, 2, 16, 512, 512, 'float32'],
    );
    assert.deepEqual((r.tokenizer as { model: string }).model, 'BPE');
    const text = await runCli(['models', 'inspect', dir], process.env, 60_000);
    assert.match(text.out, /^layout: +onnx-community$/m);
    assert.match(text.out, /^graph: +onnx\/model_q4\.onnx \(q4\)$/m);
  });

  it('says why a folder cannot be served and exits 1', async () => {
    const dir = join(tmp, 'empty');
    mkdirSync(dir);
    const { code, out } = await runCli(['models', 'inspect', dir], process.env, 60_000);
    assert.equal(code, 1);
    assert.match(out, /servable: +no: model folder .*: missing model\.onnx/);
    const bad = await runCli(['models', 'inspect', dir, '--dtype', 'q3'], process.env, 60_000);
    assert.equal(bad.code, 2);
  });
});
