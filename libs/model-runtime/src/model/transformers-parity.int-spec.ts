import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalModel } from '../generation/local-model';
import {
  writeFp16DecoderFixture,
  writeFp16EncoderFixture,
  writeOnnxCommunityFixture,
  writeOptimumFixture,
  writeSentenceTransformersFixture,
} from '../testing/layout-fixtures';
import type { OnnxSelection } from './model-layout';
import type { PoolingConfig } from './pooling';

type Transformers = typeof import('@huggingface/transformers', { with: { 'resolution-mode': 'import' } });

const PROMPTS = ['the quick brown fox', 'hello', 'zebra crossing at night'];

async function transformers(dir: string): Promise<Transformers> {
  const t: Transformers = await import('@huggingface/transformers');
  t.env.allowRemoteModels = false;
  t.env.allowLocalModels = true;
  t.env.useFSCache = false;
  t.env.localModelPath = `${dirname(dir)}/`;
  return t;
}

describe('layout fixtures give what transformers.js gives on the same folder', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-tjs-parity-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /**
   * Hotpath's greedy tokens for PROMPTS equal transformers.js's `generate` on the same folder;
   * `theirs` are transformers.js's `from_pretrained` options, `onnx` Hotpath's graph choice.
   */
  const sameGreedy = async (
    dir: string,
    label: string,
    theirs: Record<string, unknown>,
    onnx: OnnxSelection = {},
  ): Promise<void> => {
    const t = await transformers(dir);
    const model = await t.AutoModelForCausalLM.from_pretrained(basename(dir), {
      local_files_only: true,
      device: 'cpu',
      ...theirs,
    });
    const ours = await LocalModel.load(dir, { warmup: false, onnx });
    try {
      const got = await ours.generate(
        PROMPTS.map((p) => ({ prompt: p, params: { max_tokens: 10, temperature: 0 } })),
      );
      for (const [i, p] of PROMPTS.entries()) {
        const ids = ours.info.tokenizer.encode(p);
        const input_ids = new t.Tensor(
          'int64',
          BigInt64Array.from(ids, (x) => BigInt(x)),
          [1, ids.length],
        );
        const out = (await model.generate({
          input_ids,
          max_new_tokens: 10,
          do_sample: false,
        } as never)) as {
          tolist(): bigint[][];
        };
        const tokens = (out.tolist()[0] ?? []).slice(ids.length).map(Number);
        // transformers.js keeps the EOS it stopped at; Hotpath's tokens end before it.
        const eos = ours.info.eosIds;
        const trimmed =
          tokens.length > 0 && eos.includes(tokens.at(-1) as number) ? tokens.slice(0, -1) : tokens;
        assert.deepEqual(got[i]?.tokens, trimmed, `${label}: prompt ${i}`);
      }
    } finally {
      await ours.close();
      await model.dispose();
    }
  };

  it('onnx-community decoder: same greedy tokens for fp32 (external data) and q8', async () => {
    const dir = join(tmp, 'community');
    writeOnnxCommunityFixture(dir);
    await sameGreedy(dir, 'fp32', { dtype: 'fp32', use_external_data_format: 1 }, { dtype: 'fp32' });
    await sameGreedy(dir, 'q8', { dtype: 'q8' }, { dtype: 'q8' });
  });

  it('onnx-community fp16 decoder (float16 KV cache and logits): same greedy tokens', async () => {
    const dir = join(tmp, 'community-fp16');
    writeFp16DecoderFixture(dir);
    await sameGreedy(dir, 'fp16', { dtype: 'fp16' }, { dtype: 'fp16' });
  });

  it('optimum merged decoder (use_cache_branch), at the top and in onnx/: same greedy tokens', async () => {
    // transformers.js looks for `onnx/model.onnx`; its model_file_name and subfolder options point
    // it at Optimum's file, which it then feeds use_cache_branch as Hotpath does.
    const dir = join(tmp, 'optimum');
    writeOptimumFixture(dir);
    const merged = { dtype: 'fp32', model_file_name: 'decoder_model_merged' };
    await sameGreedy(dir, 'top', { ...merged, subfolder: '' });
    mkdirSync(join(dir, 'onnx'));
    renameSync(join(dir, 'decoder_model_merged.onnx'), join(dir, 'onnx', 'decoder_model_merged.onnx'));
    await sameGreedy(dir, 'onnx/', merged);
  });

  type Extractor = Awaited<ReturnType<Transformers['pipeline']>>;
  type Extracted = { data: unknown; dims: number[]; to(type: 'float32'): { data: unknown } };

  /**
   * Hotpath's embeddings of TEXTS equal `theirs(extractor, text)` from transformers.js's
   * feature-extraction pipeline on the same folder (`dtype` picks the graph on both sides).
   */
  const sameEmbeddings = async (
    dir: string,
    dtype: 'fp32' | 'fp16',
    theirs: (extract: (text: string, opts: object) => Promise<Extracted>, text: string) => Promise<number[]>,
  ): Promise<void> => {
    const t = await transformers(dir);
    const extractor: Extractor = await t.pipeline('feature-extraction', basename(dir), {
      local_files_only: true,
      dtype,
      device: 'cpu',
    });
    const extract = (text: string, opts: object): Promise<Extracted> =>
      (extractor as unknown as (x: string, o: object) => Promise<Extracted>)(text, opts);
    const texts = ['hello world', 'the quick brown fox jumps'];
    const ours = await LocalModel.load(dir, { warmup: false, onnx: { dtype } });
    try {
      const got = await ours.embed(texts);
      for (const [i, text] of texts.entries()) {
        const expected = await theirs(extract, text);
        const mine = got[i] as number[];
        assert.equal(mine.length, expected.length);
        const diff = Math.max(...mine.map((x, h) => Math.abs(x - (expected[h] as number))));
        assert.ok(diff < 1e-4, `text ${i}: max abs diff ${diff}`);
      }
    } finally {
      await ours.close();
      await extractor.dispose();
    }
  };

  for (const pooling of [
    { mode: 'mean', normalize: true },
    { mode: 'cls', normalize: false },
    { mode: 'last', normalize: true },
  ] as PoolingConfig[]) {
    it(`sentence-transformers encoder (${pooling.mode}${pooling.normalize ? ', normalized' : ''}): same embeddings`, async () => {
      const dir = join(tmp, `st-${pooling.mode}`);
      writeSentenceTransformersFixture(dir, pooling);
      mkdirSync(join(dir, 'onnx'));
      renameSync(join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
      await sameEmbeddings(dir, 'fp32', async (extract, text) => {
        const out = await extract(text, {
          pooling: pooling.mode === 'last' ? 'last_token' : pooling.mode,
          normalize: pooling.normalize,
        });
        return Array.from(out.data as Float32Array);
      });
    });
  }

  it('sentence-transformers fp16 encoder (float16 token vectors): same embeddings', async () => {
    const dir = join(tmp, 'st-fp16');
    writeFp16EncoderFixture(dir, { mode: 'mean', normalize: true });
    await sameEmbeddings(dir, 'fp16', async (extract, text) => {
      // Without a Float16Array (Node 20), transformers.js pools float16 outputs as their raw 16-bit
      // patterns; its unpooled vectors widened to float32 are right, so they are pooled here.
      const out = await extract(text, { pooling: 'none' });
      const [, S, H] = out.dims as [number, number, number];
      const vectors = out.to('float32').data as Float32Array;
      const mean = Array.from({ length: H }, (_, h) => {
        let sum = 0;
        for (let j = 0; j < S; j++) sum += vectors[j * H + h] as number;
        return sum / S;
      });
      const norm = Math.sqrt(mean.reduce((a, x) => a + x * x, 0));
      return mean.map((x) => x / norm);
    });
  });
});
