import type { TokenizerJson } from '../tokenizer/tokenizer-json';

/** llama.cpp's token kinds (`tokenizer.ggml.token_type`). */
export const GgufTokenType = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;

/** The `tokenizer.ggml.*` arrays of a SentencePiece-style ("llama") vocabulary. */
export interface GgufVocab {
  tokens: string[];
  scores: Float32Array;
  tokenTypes: Int32Array;
}

const BYTE_PIECE = /^<0x[0-9A-Fa-f]{2}>$/;
/** SentencePiece's visible space: llama.cpp's "llama" vocabulary expects it in pieces. */
const SPM_SPACE = '\u2581';

/**
 * A Hotpath `tokenizer.json` (SentencePiece-style BPE with plain spaces and byte fallback) as
 * llama.cpp's "llama" vocabulary of `vocabSize` ids: spaces become U+2581, `<0xHH>` pieces are
 * byte tokens, special added tokens are control tokens (`unkId` is the unknown token), ids the
 * tokenizer does not use are unused `[PADn]` pieces. Scores rank pieces by their first merge
 * (the earliest merge scores highest), which is the order llama.cpp's merge loop needs; pieces
 * no merge produces score 0.
 */
export function ggufVocab(json: TokenizerJson, vocabSize: number, unkId: number | undefined): GgufVocab {
  const tokens: (string | undefined)[] = new Array<string | undefined>(vocabSize);
  const types = new Int32Array(vocabSize).fill(GgufTokenType.normal);
  const scores = new Float32Array(vocabSize);
  for (const [piece, id] of Object.entries(json.model.vocab)) {
    if (id < 0 || id >= vocabSize) continue;
    tokens[id] = BYTE_PIECE.test(piece) ? piece.toUpperCase().replace('0X', '0x') : piece;
    if (BYTE_PIECE.test(piece)) types[id] = GgufTokenType.byte;
  }
  for (const t of json.added_tokens) {
    if (t.id < 0 || t.id >= vocabSize) continue;
    tokens[t.id] = t.content;
    if (t.special) types[t.id] = t.id === unkId ? GgufTokenType.unknown : GgufTokenType.control;
  }
  const rankOf = new Map<string, number>();
  json.model.merges.forEach(([left, right], rank) => {
    const piece = left + right;
    if (!rankOf.has(piece)) rankOf.set(piece, rank);
  });
  const out = tokens.map((piece, id) => {
    if (piece === undefined) {
      types[id] = GgufTokenType.unused;
      return `[PAD${id}]`;
    }
    const rank = rankOf.get(piece);
    if (rank !== undefined && types[id] === GgufTokenType.normal) scores[id] = -1 - rank;
    return types[id] === GgufTokenType.normal ? piece.replaceAll(' ', SPM_SPACE) : piece;
  });
  return { tokens: out, scores, tokenTypes: types };
}
