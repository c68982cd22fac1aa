import { bytePieces, type TokenizerSpec } from '@hotpath/tokenizer';

// English letters by frequency: merges built from them give forged models a plausible vocabulary.
const LETTERS = ' etaoinshrdlcumwfgypbvkjxqz';

/**
 * A deterministic tokenizer for forged models: `<unk>`, `<s>`, `</s>`, 256 byte-fallback pieces,
 * the printable ASCII characters, then letter bigrams, trigrams, … (by letter frequency) up to
 * `vocabSize`. Each multi-character piece merges from its prefix and last character.
 */
export function forgedTokenizerSpec(vocabSize: number): TokenizerSpec {
  const pieces: string[] = ['<unk>', '<s>', '</s>', ...bytePieces()];
  const seen = new Set(pieces);
  const add = (p: string): void => {
    if (pieces.length < vocabSize && !seen.has(p)) {
      seen.add(p);
      pieces.push(p);
    }
  };
  for (let c = 0x20; c < 0x7f; c++) add(String.fromCharCode(c));
  const firstLearned = pieces.length;
  let level = [...LETTERS];
  while (pieces.length < vocabSize) {
    const next: { p: string; rank: number }[] = [];
    for (const prefix of level) {
      for (const ch of LETTERS) {
        if (ch === ' ' && prefix.endsWith(' ')) continue;
        const rank = [...(prefix + ch)].reduce((a, x) => a + LETTERS.indexOf(x), 0);
        next.push({ p: prefix + ch, rank });
      }
    }
    next.sort((a, b) => a.rank - b.rank || (a.p < b.p ? -1 : 1));
    for (const n of next) add(n.p);
    level = next.map((n) => n.p);
    if (level.length === 0) break;
  }
  if (pieces.length < vocabSize) throw new Error(`cannot build a ${vocabSize}-token vocabulary`);
  return {
    pieces,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    mergeOrder: Array.from({ length: pieces.length - firstLearned }, (_, i) => firstLearned + i),
  };
}
