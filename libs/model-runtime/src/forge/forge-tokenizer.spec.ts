import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TextTokenizer, buildTokenizerJson } from '@hotpath/tokenizer';
import { forgedTokenizerSpec } from './forge-tokenizer';

describe('forged tokenizer', () => {
  it('builds a forged vocabulary of exactly the requested size with unique pieces', () => {
    const spec = forgedTokenizerSpec(1024);
    assert.equal(spec.pieces.length, 1024);
    assert.equal(new Set(spec.pieces).size, 1024);
    const t = TextTokenizer.fromJson(buildTokenizerJson(spec));
    assert.equal(t.vocabSize, 1024);
    const text = 'the quick brown fox, 42!';
    assert.equal(t.decode(t.encode(text)), text);
    assert.ok(t.encode(text).length < text.length);
  });
});
