import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TextTokenizer, buildTokenizerJson, bytePieces } from '@hotpath/tokenizer';
import { SequenceState } from './sequence-state';

const pieces = ['<unk>', '<s>', '</s>', ...bytePieces(), ' ', 'a', 'b', ' ab'];
const id = (p: string): number => pieces.indexOf(p);
// Clean-up of tokenization spaces on, so a trailing space is held back until the next token.
const tok = TextTokenizer.fromJson(
  buildTokenizerJson({ pieces, unkId: 0, bosId: 1, eosId: 2, mergeOrder: [id(' ab')] }),
  { clean_up_tokenization_spaces: true, bos_token: '<s>', eos_token: '</s>' },
);
const defaults = { maxTokens: 2, temperature: 0, eosIds: [2], padId: 0 };

/** A logits row whose argmax is `token`. */
const pick = (token: number): Float32Array => {
  const row = new Float32Array(pieces.length);
  row[token] = 1;
  return row;
};

describe('SequenceState', () => {
  it('emits text the stream held back when the sequence ends at its length limit', () => {
    const s = SequenceState.create(tok, { prompt: [1] }, defaults, 64);
    assert.equal(s.accept(pick(id(' ab'))).token?.text, 'ab');
    const last = s.accept(pick(id(' ')));
    assert.equal(last.finish, 'length');
    assert.equal(last.token?.text, ' ');
    assert.equal(s.text, 'ab ');
  });

  it('emits held-back text into the final text when the sequence ends with EOS', () => {
    const s = SequenceState.create(tok, { prompt: [1] }, { ...defaults, maxTokens: 8 }, 64);
    s.accept(pick(id(' ab')));
    assert.equal(s.accept(pick(0xc3 + 3)).token?.text, '');
    assert.equal(s.accept(pick(2)).finish, 'stop');
    assert.equal(s.text, 'ab\uFFFD');
  });
});
