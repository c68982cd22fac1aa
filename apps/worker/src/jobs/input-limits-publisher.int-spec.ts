import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { forgeModel } from '@hotpath/model-runtime';
import { TextTokenizer } from '@hotpath/tokenizer';
import { minTokens } from '@hotpath/queue';
import { readInputLimits } from './input-limits-publisher';

describe('input limits of a forged model folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-limits-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the context and the longest piece; the bound never exceeds the real token count', async () => {
    forgeModel({ arch: 'llama', preset: 'tiny', seed: 1, out: dir });
    const limits = await readInputLimits(dir);
    assert.ok(limits);
    assert.equal(limits.context_tokens, 512);
    assert.equal(limits.added_tokens, 1);
    const tok = TextTokenizer.fromFile(join(dir, 'tokenizer.json'));
    for (const text of ['hello world', 'the quick brown fox '.repeat(200), 'é😀 x'.repeat(50)]) {
      assert.ok(minTokens(text, limits) <= tok.encode(text).length, text.slice(0, 20));
    }
    // The 32,768-character prompt can never fit a 512-token context.
    assert.ok(minTokens('a'.repeat(32_768), limits) >= limits.context_tokens);
  });

  it('publishes nothing for a folder without a model', async () => {
    assert.equal(await readInputLimits(join(dir, 'missing')), undefined);
  });
});
