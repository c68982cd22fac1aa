import { specialToken, type AddedTokenJson } from './tokenizer-json';

/**
 * Small but complete `tokenizer.json` files of the two models no npm package ships a real
 * tokenizer for: a BERT-uncased-style WordPiece (BertNormalizer, BertPreTokenizer, `##`
 * continuations, `[CLS] … [SEP]`) and a T5/ALBERT-style Unigram (Metaspace). For agreement tests.
 */
const WORDS = [
  'the',
  'quick',
  'brown',
  'fox',
  'jumps',
  'over',
  'lazy',
  'dog',
  'hello',
  'world',
  'once',
  'upon',
  'time',
  'there',
  'was',
  'little',
  'girl',
  'named',
  'lily',
  'return',
  'function',
  'def',
  'for',
  'in',
  'it',
  'is',
  'a',
  'an',
  'and',
  'to',
  'of',
  'day',
  'we',
  'they',
  'said',
  'so',
  'beautiful',
  'line',
];
const SUFFIXES = ['ing', 'ed', 's', 'er', 'ly', 'tion', 'n', 't'];

function characters(): string[] {
  const chars = new Set<string>();
  for (let c = 0x21; c < 0x7f; c++) chars.add(String.fromCharCode(c).toLowerCase());
  for (const c of 'éèçñöüßàâ你好世界日本語東京') chars.add(c);
  return [...chars];
}

/** A WordPiece `tokenizer.json` with its `tokenizer_config.json` (BERT uncased conventions). */
export function wordPieceTokenizer(): { json: object; config: Record<string, unknown> } {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const pieces = [...specials];
  const add = (p: string): void => {
    if (!pieces.includes(p)) pieces.push(p);
  };
  for (const c of characters()) {
    add(c);
    add(`##${c}`);
  }
  for (const w of WORDS) add(w);
  for (const s of SUFFIXES) add(`##${s}`);
  const vocab = Object.fromEntries(pieces.map((p, i) => [p, i]));
  const special = (content: string): AddedTokenJson => specialToken(vocab[content] as number, content);
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
  const config = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
    clean_up_tokenization_spaces: true,
    model_max_length: 512,
  };
  return { json, config };
}

/** A Unigram `tokenizer.json` with Metaspace pre-tokenization and an EOS template (T5 style). */
export function unigramTokenizer(): { json: object; config: Record<string, unknown> } {
  const vocab: [string, number][] = [
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
  ];
  const seen = new Set(vocab.map(([p]) => p));
  const add = (p: string, score: number): void => {
    if (!seen.has(p)) {
      seen.add(p);
      vocab.push([p, score]);
    }
  };
  for (const w of WORDS) add(`▁${w}`, -5 - w.length / 10);
  for (const s of SUFFIXES) add(s, -7);
  add('▁', -6);
  for (const c of characters()) add(c, -10);
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [specialToken(0, '<pad>'), specialToken(1, '</s>'), specialToken(2, '<unk>')],
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 2, vocab, byte_fallback: false },
  };
  const config = {
    tokenizer_class: 'T5Tokenizer',
    eos_token: '</s>',
    unk_token: '<unk>',
    pad_token: '<pad>',
    clean_up_tokenization_spaces: false,
    model_max_length: 512,
  };
  return { json, config };
}
