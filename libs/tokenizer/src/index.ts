export { TextTokenizer, TOKENIZER_MODELS, type DecodeOptions, type Encoding } from './text-tokenizer';
export { TokenTextStream } from './token-text-stream';
export {
  buildTokenizerJson,
  buildTokenizerConfig,
  bytePieces,
  type TokenizerJson,
  type TokenizerSpec,
} from './tokenizer-json';
