import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TextTokenizer } from './text-tokenizer';
import { TokenTextStream } from './token-text-stream';
import { buildTokenizerJson, bytePieces } from './tokenizer-json';

// A toy SentencePiece-style vocabulary: merges chosen by the result's priority, leftmost on ties.
const pieces = ['<unk>', '<s>', '</s>', ...bytePieces(), ' ', 'a', 'b', 'c', 'ab', 'bc', ' ab', 'abc'];
const id = (p: string): number => pieces.indexOf(p);
const tok = TextTokenizer.fromJson(
  buildTokenizerJson({
    pieces,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    mergeOrder: ['bc', 'ab', ' ab', 'abc'].map(id),
  }),
);

describe('TextTokenizer', () => {
  it('adds BOS and the dummy-prefix space, merges best-priority pairs first', () => {
    assert.equal(tok.model, 'BPE');
    assert.equal(tok.bosId, 1);
    assert.deepEqual(tok.encode(''), [1]);
    // "bc" outranks "ab": " a b c" → " a bc" → " abc" (never " ab c").
    assert.deepEqual(tok.encode('abc'), [1, id(' '), id('abc')]);
    assert.deepEqual(tok.encode('ab'), [1, id(' ab')]);
  });

  it('falls back to bytes (id = byte + 3) for characters outside the vocabulary', () => {
    assert.deepEqual(tok.encode('é', false), [id(' '), 0xc3 + 3, 0xa9 + 3]);
  });

  it('decodes byte tokens to raw bytes and drops the dummy-prefix space', () => {
    assert.equal(tok.decode(tok.encode('ab é')), 'ab é');
    assert.equal(tok.decode([id(' ab')], { previous: id('c') }), ' ab');
    assert.equal(tok.decode([id(' ab')], { previous: 1 }), 'ab');
    assert.equal(tok.decode([1, id(' ab'), 2], { skipSpecialTokens: false }), '<s> ab</s>');
  });

  it('decodes ids beyond the vocabulary (padding rows of the embedding) to nothing', () => {
    assert.equal(tok.decode([id(' ab'), 5000, id('c')]), 'abc');
    assert.equal(tok.decode([]), '');
  });

  it('streams text without splitting multi-byte characters', () => {
    // After BOS the dummy-prefix space is dropped; the first byte of "é" is held back.
    const s = new TokenTextStream(tok, 1);
    assert.deepEqual(
      tok.encode('é', false).map((t) => s.push(t)),
      ['', '', 'é'],
    );
    const t = new TokenTextStream(tok, id('c'));
    assert.deepEqual(
      tok.encode('é', false).map((x) => t.push(x)),
      [' ', '', 'é'],
    );
    const u = new TokenTextStream(tok, id('c'));
    assert.equal(u.push(0xc3 + 3), '');
    assert.equal(u.flush(), '\uFFFD');
  });

  it('names the field of a tokenizer model it cannot run', () => {
    assert.throws(() => TextTokenizer.fromJson({ model: { type: 'WordLevel' } }), /model\.type "WordLevel"/);
    assert.throws(() => TextTokenizer.fromJson(null), /not a JSON object/);
  });
});
