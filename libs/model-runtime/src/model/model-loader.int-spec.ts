import assert from 'node:assert/strict';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { forgeModel } from '../forge/forge';
import { loadModelFolder } from './model-loader';

describe('model folder loader', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-load-'));
  const good = join(tmp, 'good');
  forgeModel({ arch: 'llama', preset: 'tiny', seed: 1, out: good });
  after(() => rmSync(tmp, { recursive: true, force: true }));
  let n = 0;
  const variant = (mutate: (dir: string) => void): string => {
    const dir = join(tmp, `bad-${n++}`);
    cpSync(good, dir, { recursive: true });
    mutate(dir);
    return dir;
  };
  const editJson = (dir: string, file: string, edit: (j: Record<string, unknown>) => void): void => {
    const j = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    edit(j);
    writeFileSync(join(dir, file), JSON.stringify(j));
  };
  const expectInvalid = (dir: string, message: RegExp): void => {
    assert.throws(
      () => loadModelFolder(dir),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'invalid_model');
        assert.ok(err.message.includes(dir), `message names the folder: ${err.message}`);
        assert.match(err.message, message);
        return true;
      },
    );
  };

  it('loads a good folder and reports its digest', () => {
    const m = loadModelFolder(good);
    assert.equal(m.kind, 'decoder');
    assert.equal(m.layout, 'hotpath');
    assert.equal(m.onnxFile, 'model.onnx');
    assert.match(m.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(m.eosIds, [2]);
  });

  it('takes EOS ids from config.json when generation_config.json is absent', () => {
    const dir = variant((d) => unlinkSync(join(d, 'generation_config.json')));
    assert.deepEqual(loadModelFolder(dir, { verifyDigest: false }).eosIds, [2]);
  });

  it('names each problem precisely', () => {
    expectInvalid(join(tmp, 'nope'), /does not exist/);
    expectInvalid(
      variant((d) => unlinkSync(join(d, 'model.onnx'))),
      /missing model\.onnx/,
    );
    expectInvalid(
      variant((d) => unlinkSync(join(d, 'config.json'))),
      /missing config\.json/,
    );
    expectInvalid(
      variant((d) => unlinkSync(join(d, 'tokenizer.json'))),
      /missing tokenizer\.json/,
    );
    expectInvalid(
      variant((d) => {
        unlinkSync(join(d, 'generation_config.json'));
        editJson(d, 'config.json', (j) => delete j.eos_token_id);
        editJson(d, 'tokenizer_config.json', (j) => delete j.eos_token);
      }),
      /no end-of-sequence id: generation_config\.json eos_token_id, config\.json eos_token_id/,
    );
    expectInvalid(
      variant((d) => writeFileSync(join(d, 'config.json'), '{ not json')),
      /config\.json is not valid JSON/,
    );
    expectInvalid(
      variant((d) => renameSync(join(d, 'model.onnx'), join(d, 'encoder_model.onnx'))),
      /encoder_model\.onnx: encoder-decoder \(seq2seq\) models are not supported/,
    );
    expectInvalid(
      variant((d) => editJson(d, 'config.json', (j) => (j.num_hidden_layers = 7))),
      /num_hidden_layers=7 but model\.onnx has 5 past_key_values/,
    );
    expectInvalid(
      variant((d) => editJson(d, 'config.json', (j) => (j.vocab_size = 999))),
      /vocab_size=999 but model\.onnx logits has 512/,
    );
    expectInvalid(
      variant((d) => editJson(d, 'config.json', (j) => (j.num_key_value_heads = 4))),
      /num_key_value_heads=4 but model\.onnx past_key_values\.0\.key has 2/,
    );
    expectInvalid(
      variant((d) => truncateSync(join(d, 'model.onnx'), 1000)),
      /model\.onnx is not a valid ONNX model/,
    );
    expectInvalid(
      variant((d) => writeFileSync(join(d, 'model.onnx'), 'garbage bytes, definitely not protobuf')),
      /model\.onnx is not a valid ONNX model/,
    );
    expectInvalid(
      variant((d) => editJson(d, 'tokenizer_config.json', (j) => (j.model_max_length = 1))),
      /content digest .* does not match hotpath\.json/,
    );
  });
});
