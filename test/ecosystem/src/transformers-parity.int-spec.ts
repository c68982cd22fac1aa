import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stories260kDir } from './ecosystem-env';
import { hotpathGreedy, runHotpath } from './hotpath-cli';
import { loadTransformersModel, type TransformersModel } from './transformers-js';

// Ecosystem check: Hugging Face transformers.js loads our model folders as they are
// (local files only, no network) and its greedy decoding picks the same token ids as Hotpath's.

interface Case {
  prompt: string;
  maxTokens: number;
}

/** transformers.js keeps the EOS it stopped on; Hotpath's `tokens` never include it. */
function withoutTrailingEos(tokens: number[], eosIds: readonly number[]): number[] {
  const out = [...tokens];
  while (out.length > 0 && eosIds.includes(out[out.length - 1] as number)) out.pop();
  return out;
}

function eosIdsOf(dir: string): number[] {
  const gen = JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8')) as {
    eos_token_id: number | number[];
  };
  return Array.isArray(gen.eos_token_id) ? gen.eos_token_id : [gen.eos_token_id];
}

function parityTests(
  name: string,
  prepare: (dir: string) => Promise<void>,
  cases: Case[],
  skip?: string,
): void {
  describe(`transformers.js parity: ${name}`, { skip, timeout: 120_000 }, () => {
    const work = mkdtempSync(join(tmpdir(), 'hp-eco-'));
    const dir = join(work, 'model');
    let model: TransformersModel;

    before(async () => {
      await prepare(dir);
      model = await loadTransformersModel(dir);
    });
    after(async () => {
      await model?.dispose();
      rmSync(work, { recursive: true, force: true });
    });

    for (const c of cases) {
      it(`same prompt ids and greedy ids for ${JSON.stringify(c.prompt)}`, async () => {
        const ours = await hotpathGreedy(dir, c.prompt, c.maxTokens);
        assert.deepEqual(model.encode(c.prompt), ours.prompt_tokens, 'tokenizer.json encodes identically');
        const theirs = withoutTrailingEos(await model.greedy(c.prompt, c.maxTokens), eosIdsOf(dir));
        assert.ok(ours.tokens.length > 0, 'hotpath generated tokens');
        assert.deepEqual(theirs, ours.tokens);
      });
    }
  });
}

parityTests(
  'forged llama/tiny seed 1',
  async (dir) => {
    await runHotpath(['models', 'forge', '--arch', 'llama', '--preset', 'tiny', '--seed', '1', '--out', dir]);
  },
  [
    { prompt: 'Once upon a time', maxTokens: 32 },
    { prompt: 'The quick brown fox jumps over the lazy dog.', maxTokens: 24 },
    // Characters outside the vocabulary go through byte fallback.
    { prompt: 'héllo wörld, 42 🙂', maxTokens: 24 },
  ],
);

const stories = stories260kDir();
parityTests(
  'imported stories260K',
  async (dir) => {
    const src = stories as string;
    await runHotpath([
      'models',
      'import-llama2c',
      join(src, 'stories260K.bin'),
      '--tokenizer',
      join(src, 'tok512.bin'),
      '--out',
      dir,
    ]);
  },
  [
    { prompt: 'Once upon a time', maxTokens: 80 },
    { prompt: 'Lily and Tom went to the park', maxTokens: 48 },
    { prompt: 'A big dog said "hi" to the café owner 🐶', maxTokens: 32 },
  ],
  stories
    ? undefined
    : 'stories260K not found: set HOTPATH_STORIES260K_DIR or put it in ../shared/models/stories260K',
);
