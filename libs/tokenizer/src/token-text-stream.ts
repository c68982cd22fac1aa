import type { TextTokenizer } from './text-tokenizer';

const REPLACEMENT = '\uFFFD';
/**
 * Text ends that a later token can still change when the tokenizer cleans up tokenization spaces:
 * the proper prefixes of " .", " ?", " !", " ,", " ' ", " n't", " 'm", " 's", " 've", " 're".
 */
const CLEANUP_PREFIXES = [' ', " '", " 'v", " 'r", ' n', " n'"];

/**
 * Turns a token stream into text pieces. Each push decodes a short window of recent ids twice
 * (with and without the new id) and emits the difference, holding it back while it ends in an
 * incomplete character (U+FFFD from a partial byte-fallback or byte-level sequence) or in a space
 * that cleaning up tokenization spaces may still remove. Decoding a
 * window rather than single ids keeps decoders whose output depends on the neighbouring token
 * (SentencePiece's leading-space strip, WordPiece's `##`) right, at a constant cost per token.
 */
export class TokenTextStream {
  private ids: number[];
  /** Start of the window that is decoded; its text up to `readOffset` was already emitted. */
  private prefixOffset = 0;
  private readOffset: number;

  /** `previous` is the token before the stream (the prompt's last), when there is one. */
  constructor(
    private readonly tokenizer: TextTokenizer,
    previous: number | undefined,
  ) {
    this.ids = previous === undefined ? [] : [previous];
    this.readOffset = this.ids.length;
  }

  /** Text completed by this token (may be empty). */
  push(id: number): string {
    this.ids.push(id);
    const emitted = this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const text = this.tokenizer.decode(this.ids.slice(this.prefixOffset));
    if (text.length <= emitted.length || this.unfinished(text)) return '';
    // The window moves on: what was read becomes the new prefix; older ids are dropped.
    this.ids = this.ids.slice(this.readOffset);
    this.prefixOffset = 0;
    this.readOffset = this.ids.length;
    return text.slice(emitted.length);
  }

  private unfinished(text: string): boolean {
    if (text.endsWith(REPLACEMENT)) return true;
    return this.tokenizer.cleansUpSpaces && CLEANUP_PREFIXES.some((p) => text.endsWith(p));
  }

  /** Whatever is still held back (an incomplete character at the end of the stream). */
  flush(): string {
    const emitted = this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const text = this.tokenizer.decode(this.ids.slice(this.prefixOffset));
    this.ids = this.ids.slice(this.readOffset);
    this.readOffset = this.ids.length;
    return text.length > emitted.length ? text.slice(emitted.length) : '';
  }
}
