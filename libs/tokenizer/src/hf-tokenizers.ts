import { createRequire } from 'node:module';
import type * as HfTokenizers from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };

/** The `Tokenizer` class of `@huggingface/tokenizers` (the tokenizer of transformers.js). */
export type HfTokenizer = HfTokenizers.Tokenizer;

// The package's typings are ES-module only, but it ships a CommonJS build: loading that one keeps
// tokenizer construction synchronous, like the rest of model-folder loading.
const hf = createRequire(__filename)('@huggingface/tokenizers') as typeof HfTokenizers;

/** Builds a `@huggingface/tokenizers` tokenizer from parsed `tokenizer.json` / `tokenizer_config.json`. */
export function createHfTokenizer(json: object, config: object): HfTokenizer {
  return new hf.Tokenizer(json, config);
}
