/** The parts of a Hugging Face `tokenizer.json` this runtime writes and reads (a BPE model). */
export interface TokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: {
    id: number;
    content: string;
    single_word: boolean;
    lstrip: boolean;
    rstrip: boolean;
    normalized: boolean;
    special: boolean;
  }[];
  normalizer: { type: string; prepend?: string; normalizers?: unknown[] } | null;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: string | null;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: boolean;
    byte_fallback: boolean;
    ignore_merges: boolean;
    vocab: Record<string, number>;
    merges: [string, string][];
  };
}

/** One `added_tokens` entry of `tokenizer.json`. */
export type AddedTokenJson = TokenizerJson['added_tokens'][number];

/** A special added token matched verbatim (not normalized, no stripping). */
export function specialToken(id: number, content: string): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** Input of {@link buildTokenizerJson}: every piece by id, and which ids are special. */
export interface TokenizerSpec {
  /** Piece text by id. Byte-fallback pieces are written `<0xHH>`. */
  pieces: readonly string[];
  unkId: number;
  bosId: number;
  eosId: number;
  /** Ids whose pieces may be produced by merges, in merge priority order (best first). */
  mergeOrder: readonly number[];
}

/** The 256 byte-fallback piece names, `<0x00>` … `<0xFF>`. */
export function bytePieces(): string[] {
  return Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
}

/**
 * Writes a Hugging Face `tokenizer.json` for a SentencePiece-style BPE whose spaces are plain
 * U+0020: a `Prepend(" ")` normalizer (the dummy prefix), no pre-tokenizer, byte fallback, a BOS
 * template, and merges listed as `[left, right]` pairs (pieces contain spaces). Every split of a
 * mergeable piece into two vocabulary pieces is listed, ordered by the piece's priority, so
 * "merge the adjacent pair whose result ranks best" is expressible as ordinary BPE merges.
 */
export function buildTokenizerJson(spec: TokenizerSpec): TokenizerJson {
  const vocab: Record<string, number> = {};
  spec.pieces.forEach((p, id) => {
    if (p in vocab) throw new Error(`duplicate piece ${JSON.stringify(p)} (ids ${vocab[p]} and ${id})`);
    vocab[p] = id;
  });
  const merges: [string, string][] = [];
  for (const id of spec.mergeOrder) {
    const piece = spec.pieces[id] as string;
    const chars = [...piece];
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join('');
      const right = chars.slice(k).join('');
      if (left in vocab && right in vocab) merges.push([left, right]);
    }
  }
  const special = (id: number): AddedTokenJson => specialToken(id, spec.pieces[id] as string);
  const bos = spec.pieces[spec.bosId] as string;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(spec.unkId), special(spec.bosId), special(spec.eosId)],
    normalizer: { type: 'Prepend', prepend: ' ' },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: bos, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: bos, type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [bos]: { id: bos, ids: [spec.bosId], tokens: [bos] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: spec.pieces[spec.unkId] as string,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** `tokenizer_config.json` matching {@link buildTokenizerJson}. */
export function buildTokenizerConfig(spec: TokenizerSpec, maxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    add_bos_token: true,
    add_eos_token: false,
    bos_token: spec.pieces[spec.bosId],
    eos_token: spec.pieces[spec.eosId],
    unk_token: spec.pieces[spec.unkId],
    pad_token: spec.pieces[spec.unkId],
    model_max_length: maxLength,
    clean_up_tokenization_spaces: false,
  };
}
