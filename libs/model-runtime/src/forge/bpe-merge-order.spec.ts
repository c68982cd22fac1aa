import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TextTokenizer, buildTokenizerJson, type TokenizerSpec } from '@hotpath/tokenizer';
import { forgedTokenizerSpec } from './forge-tokenizer';

/**
 * The llama2.c merge loop, written the obvious (quadratic) way: rescan every pair, merge the best
 * priority, leftmost on a tie, repeat. The tokenizer library must give the same ids.
 */
function referenceEncode(spec: TokenizerSpec, text: string): number[] {
  const vocab = new Map(spec.pieces.map((p, i) => [p, i]));
  const rank = new Map(spec.mergeOrder.map((id, r) => [spec.pieces[id] as string, r]));
  const ids: number[] = [spec.bosId as number];
  const syms: string[] = [];
  for (const ch of ` ${text}`) {
    if (vocab.has(ch)) syms.push(ch);
    else
      for (const b of Buffer.from(ch, 'utf8'))
        syms.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  }
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < syms.length; i++) {
      const r = rank.get(`${syms[i]}${syms[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        best = i;
        bestRank = r;
      }
    }
    if (best < 0) break;
    syms.splice(best, 2, `${syms[best]}${syms[best + 1]}`);
  }
  return ids.concat(syms.map((s) => vocab.get(s) as number));
}

/** Deterministic pseudo-random text over letters, spaces, punctuation and a few non-ASCII characters. */
function randomText(seed: number, length: number): string {
  const alphabet = ' etaoinshrdlcumwfgypbvkjxqz  ,.!é—😀';
  const chars = [...alphabet];
  let x = seed >>> 0 || 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += chars[(x >>> 0) % chars.length];
  }
  return out;
}

describe('forged tokenizer merge order (llama2.c semantics through the tokenizer library)', () => {
  const spec = forgedTokenizerSpec(2048);
  const tok = TextTokenizer.fromJson(buildTokenizerJson(spec));

  it('matches the rescanning llama2.c loop on random text', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const text = randomText(seed, 1 + (seed % 97));
      assert.deepEqual(
        tok.encode(text),
        referenceEncode(spec, text),
        `seed ${seed}: ${JSON.stringify(text)}`,
      );
    }
  });

  it('matches it on runs of one character, where every pair ties', () => {
    for (const text of ['eeeeeeeee', 'e e e e e', 'ttttttttttttttttttttttttttttttttttttt']) {
      assert.deepEqual(tok.encode(text), referenceEncode(spec, text));
    }
  });

  // Not a speed assertion: the rescanning loop needs minutes for this input (it is quadratic), so
  // a quadratic tokenizer hits the hang guard; a linear one finishes in well under a second.
  it('tokenizes a 256 KB input without rescanning per merge', { timeout: 30_000 }, () => {
    const text = randomText(7, 256 * 1024);
    const ids = tok.encode(text, false);
    assert.equal(tok.decode(ids), text);
    assert.ok(ids.length < text.length);
  });
});
