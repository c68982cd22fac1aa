import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalModel } from '../generation/local-model';
import {
  engineLogits,
  engineTraceDiff,
  forEachEngineGraph,
  maxAbsDiff,
  onnxLogits,
  referenceLogits,
} from '../testing/parity';
import { ReferenceLlama } from '../testing/reference-llama';
import { stories260kDir } from '../testing/stories-dir';
import { importLlama2c } from './import-llama2c';
import { readLlama2cCheckpoint, type Llama2cCheckpoint } from './llama2c-reader';

const src = stories260kDir();

describe('stories260K imported from llama2.c', () => {
  let tmp = '';
  let model: LocalModel;
  let plain: LocalModel;
  let ckpt: Llama2cCheckpoint;
  const reference = (): ReferenceLlama => ReferenceLlama.fromLlama2c(ckpt);

  before(async () => {
    if (!src) return;
    tmp = mkdtempSync(join(tmpdir(), 'hp-s260-'));
    importLlama2c({
      checkpoint: join(src, 'stories260K.bin'),
      tokenizer: join(src, 'tok512.bin'),
      out: join(tmp, 'model'),
    });
    ckpt = readLlama2cCheckpoint(join(src, 'stories260K.bin'));
    model = await LocalModel.load(join(tmp, 'model'));
    plain = await LocalModel.load(join(tmp, 'model'), { engine: 'plain', warmup: false });
  });
  after(async () => {
    await model?.close();
    await plain?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('tokenizes like llama2.c', (t) => {
    if (!src) return t.skip('stories260K not found (set HOTPATH_STORIES260K_DIR)');
    const tok = model.info.tokenizer;
    assert.deepEqual(tok.encode('Once upon a time'), [1, 403, 407, 261, 378]);
    assert.deepEqual(tok.encode('The little dog'), [1, 291, 376, 400, 428]);
    assert.deepEqual(tok.encode(''), [1]);
    // U+2603 is not a piece: three byte-fallback tokens (byte + 3) after the dummy-prefix space.
    assert.deepEqual(tok.encode('☃'), [1, 410, 0xe2 + 3, 0x98 + 3, 0x83 + 3]);
    assert.deepEqual(tok.encode('a\nb').includes(13), true);
    assert.equal(tok.decode([1, 403, 407, 261, 378]), 'Once upon a time');
    for (const text of [
      'Once upon a time',
      'The little dog ran. “Hi!” — é ☃ 日本\nnew line',
      '  two  spaces ',
    ]) {
      assert.equal(tok.decode(tok.encode(text)), text);
    }
    assert.equal(tok.decode([403], { previous: 1 }), 'Once');
    // As in transformers, the decoder strips the dummy-prefix space at the start of any decoded text;
    // after an ordinary token the space stays.
    assert.equal(tok.decode([403]), 'Once');
    assert.equal(tok.decode([403], { previous: 378 }), ' Once');
  });

  it('ONNX logits match the reference pass (no cache, cache, batch 1 and 4)', async (t) => {
    if (!src) return t.skip('stories260K not found (set HOTPATH_STORIES260K_DIR)');
    const tok = model.info.tokenizer;
    const seqs = [
      'Once upon a time, there was',
      'The little dog',
      'Lily liked to play in the park with her mom',
      'Tom',
    ].map((p) => tok.encode(p));
    const refs = seqs.map((s) => referenceLogits(reference, s));
    const check = (got: Float32Array[][], label: string): void => {
      got.forEach((rows, b) => {
        assert.equal(rows.length, (seqs[b] as number[]).length, label);
        rows.forEach((row, p) => {
          const d = maxAbsDiff(row, (refs[b] as Float32Array[])[p] as Float32Array);
          assert.ok(d <= 1e-4, `${label}: seq ${b} pos ${p} max abs diff ${d}`);
        });
      });
    };
    const lm = plain.causalLm;
    check(await onnxLogits(lm, [seqs[0] as number[]], [(seqs[0] as number[]).length]), 'batch 1, no cache');
    check([(await onnxLogits(lm, [seqs[0] as number[]], [3]))[0] as Float32Array[]], 'batch 1, cache');
    check(
      await onnxLogits(
        lm,
        seqs,
        seqs.map((s) => s.length),
      ),
      'batch 4, no cache',
    );
    check(
      await onnxLogits(
        lm,
        seqs,
        seqs.map((s) => Math.min(2, s.length)),
      ),
      'batch 4, cache',
    );
  });

  it('every engine: logits match the reference at every step (ragged batch, chunked prefill)', async (t) => {
    if (!src) return t.skip('stories260K not found (set HOTPATH_STORIES260K_DIR)');
    assert.equal(model.engine, 'wasm', 'auto serves stories260K on the WASM engine');
    const tok = model.info.tokenizer;
    const prompts = [
      'Once upon a time, there was',
      'The little dog',
      'Lily liked to play in the park with her mom',
      'Tom',
    ].map((p) => tok.encode(p));
    await forEachEngineGraph(join(tmp, 'model'), async (m, graphs) => {
      for (const chunk of [512, 3]) {
        const label = `${graphs}, prefill chunk ${chunk}`;
        const solo = engineTraceDiff(
          reference,
          [prompts[0] as number[]],
          await engineLogits(m, [prompts[0] as number[]], 12, chunk),
        );
        assert.ok(solo <= 1e-4, `batch 1, ${label}: max abs diff ${solo}`);
        const batch = engineTraceDiff(reference, prompts, await engineLogits(m, prompts, 12, chunk));
        assert.ok(batch <= 1e-4, `batch 4, ${label}: max abs diff ${batch}`);
      }
    });
  });

  it('greedy generation equals the reference greedy tokens, batch 4 = batch 1 (WASM and arena engines)', async (t) => {
    if (!src) return t.skip('stories260K not found (set HOTPATH_STORIES260K_DIR)');
    const arena = await LocalModel.load(join(tmp, 'model'), { engine: 'arena', warmup: false });
    try {
      for (const m of [model, arena]) await greedyMatches(m);
    } finally {
      await arena.close();
    }
  });

  async function greedyMatches(model: LocalModel): Promise<void> {
    const prompt = model.info.tokenizer.encode('Once upon a time');
    const expected = reference().greedy(prompt, 40, [1]);
    const [one] = await model.generate([
      { prompt: 'Once upon a time', params: { max_tokens: 40, temperature: 0 } },
    ]);
    assert.deepEqual(one?.tokens, expected);
    assert.match(one?.text ?? '', /^, there was a little girl named Lily/);
    const prompts = ['Once upon a time', 'The little dog', 'Lily and Tom went to the park. They', 'Sam'];
    const batch = await model.generate(
      prompts.map((p) => ({ prompt: p, params: { max_tokens: 24, temperature: 0 } })),
    );
    for (const [i, p] of prompts.entries()) {
      const [single] = await model.generate([{ prompt: p, params: { max_tokens: 24, temperature: 0 } }]);
      assert.deepEqual(batch[i]?.tokens, single?.tokens, `${model.engine}: prompt ${i}`);
      assert.equal(batch[i]?.text, single?.text);
    }
  }

  it('stops at BOS (a story boundary) without printing it', async (t) => {
    if (!src) return t.skip('stories260K not found (set HOTPATH_STORIES260K_DIR)');
    const [out] = await model.generate([
      { prompt: 'Once upon a time', params: { max_tokens: 400, temperature: 0 } },
    ]);
    assert.ok(out);
    assert.ok(!out.tokens.includes(1));
    if (out.finishReason === 'stop') assert.ok(out.tokens.length < 400);
  });
});
