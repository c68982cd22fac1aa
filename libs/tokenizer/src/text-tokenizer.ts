import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHfTokenizer, type HfTokenizer } from './hf-tokenizers';

/** Options of {@link TextTokenizer.decode}. */
export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, chat markers, …) from the text. Default true. */
  skipSpecialTokens?: boolean;
  /**
   * The token before `ids[0]`: the text is what `ids` add after it. A decoder that strips the
   * dummy-prefix space at the start of a text then strips it only after BOS, as a whole decode would.
   */
  previous?: number;
}

/** Token ids of one text, with the segment (`token_type_ids`) of each for encoders that take them. */
export interface Encoding {
  ids: number[];
  typeIds: number[];
}

/** The tokenizer models `tokenizer.json` can name (`model.type`). */
export const TOKENIZER_MODELS = ['BPE', 'WordPiece', 'Unigram'] as const;

interface TokenizerJsonShape {
  model?: { type?: unknown };
  post_processor?: unknown;
}

/** A `bos_token`-style entry of `tokenizer_config.json`: a string or an `AddedToken` object. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  return undefined;
}

/** The first special token a `TemplateProcessing` post-processor puts before a single text. */
function templateFirstSpecial(post: unknown): string | undefined {
  const p = post as { type?: string; single?: { SpecialToken?: { id?: string } }[]; processors?: unknown[] };
  if (p?.type === 'Sequence') {
    for (const inner of p.processors ?? []) {
      const found = templateFirstSpecial(inner);
      if (found) return found;
    }
    return undefined;
  }
  return p?.type === 'TemplateProcessing' ? p.single?.[0]?.SpecialToken?.id : undefined;
}

/**
 * A Hugging Face tokenizer (`tokenizer.json` + `tokenizer_config.json`): every model, normalizer,
 * pre-tokenizer, post-processor, added token and decoder that transformers.js supports, through
 * `@huggingface/tokenizers`. Ids and text agree with transformers.js's `AutoTokenizer` on the same
 * files; incremental (streaming) detokenization is {@link TokenTextStream}'s job.
 */
export class TextTokenizer {
  /** `model.type` of `tokenizer.json`: BPE, WordPiece or Unigram. */
  readonly model: string;
  /** One past the largest id (vocabulary and added tokens). */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly unkId: number | undefined;
  readonly padId: number | undefined;
  /** `model_max_length` of `tokenizer_config.json`, when it is a usable number. */
  readonly maxLength: number | undefined;
  /** `chat_template` of `tokenizer_config.json` (a single template), when present. */
  readonly chatTemplate: string | undefined;
  /**
   * `clean_up_tokenization_spaces` of `tokenizer_config.json`: decoding removes the space before
   * punctuation and English contractions (" ." → ".", " n't" → "n't").
   */
  readonly cleansUpSpaces: boolean;
  private readonly special = new Set<number>();

  private constructor(
    private readonly hf: HfTokenizer,
    json: TokenizerJsonShape,
    config: Record<string, unknown>,
  ) {
    this.model = String(json.model?.type);
    let max = -1;
    for (const id of hf.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    for (const [id, t] of hf.get_added_tokens_decoder()) if (t.special) this.special.add(id);
    const idOf = (key: string): number | undefined => {
      const name = tokenName(config[key]);
      return name === undefined ? undefined : hf.token_to_id(name);
    };
    const templateBos = templateFirstSpecial(json.post_processor);
    this.bosId = idOf('bos_token') ?? (templateBos === undefined ? undefined : hf.token_to_id(templateBos));
    this.eosId = idOf('eos_token');
    this.unkId =
      idOf('unk_token') ?? hf.token_to_id(String((json.model as { unk_token?: unknown })?.unk_token));
    this.padId = idOf('pad_token');
    const maxLen = config.model_max_length;
    // Configs without a limit store a huge sentinel (1e30), which is no context length.
    this.maxLength = typeof maxLen === 'number' && maxLen > 0 && maxLen < 2 ** 31 ? maxLen : undefined;
    this.chatTemplate = typeof config.chat_template === 'string' ? config.chat_template : undefined;
    this.cleansUpSpaces = config.clean_up_tokenization_spaces === true;
  }

  /**
   * Builds a tokenizer from parsed `tokenizer.json` and `tokenizer_config.json` objects. Throws an
   * `Error` naming the field for a model type or component the library does not implement.
   */
  static fromJson(json: unknown, config: Record<string, unknown> = {}): TextTokenizer {
    if (!json || typeof json !== 'object') throw new Error('not a JSON object');
    const j = json as TokenizerJsonShape;
    const type = j.model?.type;
    if (!TOKENIZER_MODELS.includes(type as (typeof TOKENIZER_MODELS)[number]))
      throw new Error(`model.type ${JSON.stringify(type)} is not supported (${TOKENIZER_MODELS.join(', ')})`);
    return new TextTokenizer(createHfTokenizer(json, config), j, config);
  }

  /** Reads a `tokenizer.json` file and the `tokenizer_config.json` beside it, when there is one. */
  static fromFile(path: string): TextTokenizer {
    const cfgPath = join(dirname(path), 'tokenizer_config.json');
    const config = existsSync(cfgPath)
      ? (JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>)
      : {};
    return TextTokenizer.fromJson(JSON.parse(readFileSync(path, 'utf8')), config);
  }

  /** The piece (vocabulary string) of an id. */
  piece(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  /** The id of a piece or added token. */
  tokenId(piece: string): number | undefined {
    return this.hf.token_to_id(piece);
  }

  isSpecial(id: number): boolean {
    return this.special.has(id);
  }

  /** Text → ids; `addSpecialTokens` applies the post-processor (BOS, CLS/SEP, …). */
  encode(text: string, addSpecialTokens = true): number[] {
    return this.hf.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** Text → ids and segment ids (all 0 for a single text unless the post-processor says otherwise). */
  encodeWithTypes(text: string, addSpecialTokens = true): Encoding {
    const e = this.hf.encode(text, { add_special_tokens: addSpecialTokens, return_token_type_ids: true });
    return { ids: e.ids, typeIds: e.token_type_ids ?? e.ids.map(() => 0) };
  }

  /** Ids → text. Ids outside the vocabulary (padding rows of a larger embedding) decode to nothing. */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const known = ids.filter((id) => this.hf.id_to_token(id) !== undefined);
    const skip = opts.skipSpecialTokens ?? true;
    if (opts.previous === undefined || this.hf.id_to_token(opts.previous) === undefined)
      return this.decodeKnown(known, skip);
    const head = this.decodeKnown([opts.previous], skip);
    const all = this.decodeKnown([opts.previous, ...known], skip);
    return all.startsWith(head) ? all.slice(head.length) : all;
  }

  private decodeKnown(ids: readonly number[], skipSpecial: boolean): string {
    if (ids.length === 0) return '';
    return this.hf.decode([...ids], {
      skip_special_tokens: skipSpecial,
      clean_up_tokenization_spaces: this.cleansUpSpaces,
    });
  }
}
