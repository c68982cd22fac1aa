import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forgeModel } from '../forge/forge';
import { LocalModel } from '../generation/local-model';
import { retypeGraphValues } from '../onnx/onnx-rewrite';
import { OrtSession } from '../session/ort-session';
import {
  moveGraph,
  writeFp16DecoderFixture,
  writeFp16EncoderFixture,
  writeOnnxCommunityFixture,
  writeOptimumFixture,
  writeSentenceTransformersFixture,
} from '../testing/layout-fixtures';
import { inspectModelFolder } from './model-inspect';
import { loadModelFolder } from './model-loader';

const PROMPTS = ['the quick brown fox', 'hello', 'zebra crossing at night'];

async function greedy(dir: string, onnx?: { dtype?: 'fp32' | 'q8'; file?: string }): Promise<number[][]> {
  const m = await LocalModel.load(dir, { warmup: false, onnx });
  try {
    const out = await m.generate(
      PROMPTS.map((p) => ({ prompt: p, params: { max_tokens: 12, temperature: 0 } })),
    );
    return out.map((o) => o.tokens);
  } finally {
    await m.close();
  }
}

describe('model folder layouts', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-layouts-'));
  const at = (name: string): string => join(tmp, name);
  let reference: number[][] = [];
  let referenceSeed2: number[][] = [];
  before(async () => {
    forgeModel({ arch: 'llama', preset: 'tiny', seed: 1, out: at('hotpath') });
    forgeModel({ arch: 'llama', preset: 'tiny', seed: 2, out: at('hotpath-seed2') });
    reference = await greedy(at('hotpath'));
    referenceSeed2 = await greedy(at('hotpath-seed2'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const expectInvalid = (fn: () => unknown, message: RegExp): void => {
    assert.throws(fn, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'invalid_model');
      assert.match(err.message, message);
      return true;
    });
  };

  it('onnx-community: onnx/model.onnx with external data, and the dtype choice', async () => {
    const dir = at('onnx-community');
    writeOnnxCommunityFixture(dir);
    const info = loadModelFolder(dir);
    assert.equal(info.layout, 'onnx-community');
    assert.equal(info.onnxFile, 'onnx/model.onnx');
    assert.deepEqual(info.signature.externalData, ['model.onnx_data']);
    assert.deepEqual(await greedy(dir), reference);
    assert.equal(loadModelFolder(dir, { dtype: 'q8' }).onnxFile, 'onnx/model_quantized.onnx');
    assert.deepEqual(await greedy(dir, { dtype: 'q8' }), referenceSeed2);
    assert.deepEqual(await greedy(dir, { file: 'onnx/model_quantized.onnx' }), referenceSeed2);
    expectInvalid(
      () => loadModelFolder(dir, { dtype: 'q4' }),
      /no q4 graph \(dtype q4\); the folder offers onnx\/model\.onnx \(fp32\), onnx\/model_quantized\.onnx \(q8\)/,
    );
    unlinkSync(join(dir, 'onnx', 'model.onnx_data'));
    expectInvalid(
      () => loadModelFolder(dir),
      /onnx\/model\.onnx keeps its weights in onnx\/model\.onnx_data, which is missing/,
    );
  });

  it('optimum: decoder_model_merged.onnx gets use_cache_branch from the KV length', async () => {
    const dir = at('optimum');
    writeOptimumFixture(dir);
    const info = loadModelFolder(dir);
    assert.equal(info.layout, 'optimum');
    assert.equal(info.usesCacheBranch, true);
    assert.deepEqual(await greedy(dir), reference);
    const s = await OrtSession.create(info.onnxPath);
    try {
      const kv = (len: number) => ({
        type: 'float32' as const,
        data: new Float32Array(2 * len * 16),
        dims: [1, 2, len, 16],
      });
      const feeds = (past: number) => {
        const f: Record<
          string,
          ReturnType<typeof kv> | { type: 'int64'; data: BigInt64Array; dims: number[] }
        > = {
          input_ids: { type: 'int64', data: BigInt64Array.of(5n), dims: [1, 1] },
          attention_mask: { type: 'int64', data: new BigInt64Array(past + 1).fill(1n), dims: [1, past + 1] },
          position_ids: { type: 'int64', data: BigInt64Array.of(BigInt(past)), dims: [1, 1] },
        };
        for (let i = 0; i < 5; i++) {
          f[`past_key_values.${i}.key`] = kv(past);
          f[`past_key_values.${i}.value`] = kv(past);
        }
        return f;
      };
      const seen = async (past: number): Promise<bigint> =>
        (
          (await s.run(feeds(past), ['use_cache_branch_seen'])).use_cache_branch_seen?.data as BigInt64Array
        )[0] as bigint;
      assert.equal(await seen(0), 0n);
      assert.equal(await seen(3), 1n);
    } finally {
      await s.release();
    }
  });

  it('reads the KV shape from the graph, whatever config.json calls its fields', async () => {
    const dir = at('gpt2-style');
    forgeModel({ arch: 'llama', preset: 'tiny', seed: 1, out: dir });
    unlinkSync(join(dir, 'hotpath.json'));
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const renamed: Record<string, unknown> = { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] };
    renamed.n_layer = cfg.num_hidden_layers;
    renamed.n_head = cfg.num_attention_heads;
    renamed.n_embd = cfg.hidden_size;
    renamed.n_positions = cfg.max_position_embeddings;
    renamed.vocab_size = cfg.vocab_size;
    renamed.eos_token_id = cfg.eos_token_id;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(renamed));
    const info = loadModelFolder(dir);
    const c = info.config as unknown as Record<string, number>;
    assert.deepEqual(
      [c.num_hidden_layers, c.num_key_value_heads, c.head_dim, c.max_position_embeddings],
      [5, 2, 16, 512],
    );
    assert.deepEqual(await greedy(dir), reference);
  });

  it('onnx-community fp16: float16 KV cache and logits load, generate, batch, and track fp32', async (t) => {
    const dir = at('fp16');
    writeFp16DecoderFixture(dir);
    const info = loadModelFolder(dir, { dtype: 'fp16' });
    assert.deepEqual(
      [info.onnxFile, info.dtype, info.kvType, info.outputType],
      ['onnx/model_fp16.onnx', 'fp16', 'float16', 'float16'],
    );
    // Weights and the half constants are float16; only the RMSNorm epsilon and RoPE frequencies stay float32.
    assert.deepEqual(info.signature.weightTypes, { float16: 49, float32: 2, int64: 41 });
    assert.equal(loadModelFolder(dir).kvType, 'float32', 'without dtype the fp32 twin is served');
    assert.equal(inspectModelFolder(dir, { dtype: 'fp16' }).ioDtype, 'float16');
    const prompts = [
      ...PROMPTS,
      'once upon a time',
      'a b c d e f',
      'water is wet',
      'the cat sat on the mat',
      'why is the sky blue',
      'numbers: 1 2 3',
      'good morning',
      'a long road home',
      'red green blue',
      'the end',
      'she said yes',
      'over the hills and far away',
      'x',
    ];
    const run = async (dtype: 'fp32' | 'fp16', batched: boolean): Promise<number[][]> => {
      const m = await LocalModel.load(dir, { warmup: false, onnx: { dtype } });
      try {
        assert.equal(m.engine, 'plain');
        const reqs = prompts.map((p) => ({ prompt: p, params: { max_tokens: 16, temperature: 0 } }));
        if (batched) return (await m.generate(reqs)).map((o) => o.tokens);
        const out: number[][] = [];
        for (const r of reqs) out.push(((await m.generate([r]))[0] as { tokens: number[] }).tokens);
        return out;
      } finally {
        await m.close();
      }
    };
    const half = await run('fp16', true);
    assert.deepEqual(await run('fp16', false), half, 'a left-padded batch gives each prompt its solo tokens');
    const full = await run('fp32', true);
    // Half precision moves logits by ~1e-3: a near tie between the two best tokens can flip, after
    // which the sequences part ways. Most prompts must still agree on their first tokens.
    const common = full.map((f, i) => {
      const h = half[i] as number[];
      let k = 0;
      while (k < f.length && k < h.length && f[k] === h[k]) k++;
      return k === f.length && k === h.length ? Infinity : k;
    });
    const identical = common.filter((k) => k === Infinity).length;
    const first8 = common.filter((k) => k >= 8).length;
    t.diagnostic(
      `fp16 vs fp32 greedy, 16 tokens: ${identical}/${prompts.length} prompts identical, ${first8}/${prompts.length} agree on the first 8; first divergence at ${common.map((k) => (k === Infinity ? '-' : k)).join(',')}`,
    );
    assert.ok(first8 >= prompts.length - 4, `only ${first8}/${prompts.length} prompts agree on 8 tokens`);
    assert.ok(identical >= prompts.length / 2, `only ${identical}/${prompts.length} prompts identical`);
  });

  it('refuses KV caches and logits that are neither float32 nor float16, or mix the two', () => {
    const forged = (name: string): string => {
      const d = at(name);
      forgeModel({ arch: 'llama', preset: 'tiny', seed: 1, out: d });
      unlinkSync(join(d, 'hotpath.json'));
      return d;
    };
    const retype = (d: string, names: string[], elemType: number): void =>
      writeFileSync(
        join(d, 'model.onnx'),
        retypeGraphValues(readFileSync(join(d, 'model.onnx')), new Set(names), elemType),
      );
    const kv = Array.from({ length: 5 }, (_, i) =>
      ['key', 'value'].flatMap((x) => [`past_key_values.${i}.${x}`, `present.${i}.${x}`]),
    ).flat();
    const bf16 = forged('bf16');
    retype(bf16, kv, 16);
    expectInvalid(
      () => loadModelFolder(bf16),
      /model\.onnx past_key_values\.0\.key is bfloat16; KV caches, logits and token vectors must be float32 or float16/,
    );
    const mixed = forged('mixed-kv');
    retype(mixed, ['present.3.value'], 10);
    expectInvalid(
      () => loadModelFolder(mixed),
      /model\.onnx present\.3\.value is float16 but past_key_values\.0\.key is float32; a KV cache has one element type/,
    );
    const f64 = forged('f64-logits');
    retype(f64, ['logits'], 11);
    expectInvalid(() => loadModelFolder(f64), /model\.onnx logits is float64; KV caches, logits/);
  });

  it('sentence-transformers: CLS, mean and last-token pooling, with and without Normalize', async () => {
    const embed = async (dir: string): Promise<number[][]> => {
      const m = await LocalModel.load(dir, { warmup: false });
      try {
        return await m.embed(['hello world', 'the quick brown fox']);
      } finally {
        await m.close();
      }
    };
    const plain = at('bert');
    forgeModel({ arch: 'bert', preset: 'tiny-embed', seed: 1, out: plain });
    const mean = await embed(plain);
    const st = (name: string, mode: 'cls' | 'mean' | 'last', normalize: boolean): string => {
      const dir = at(name);
      writeSentenceTransformersFixture(dir, { mode, normalize });
      return dir;
    };
    assert.deepEqual(await embed(st('st-mean', 'mean', true)), mean);
    const cls = await embed(st('st-cls', 'cls', false));
    const clsNorm = await embed(st('st-cls-norm', 'cls', true));
    const last = await embed(st('st-last', 'last', true));
    const norm = (v: number[]): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    assert.ok(Math.abs(norm(clsNorm[0] as number[]) - 1) < 1e-6);
    assert.ok(Math.abs(norm(cls[0] as number[]) - 1) > 1e-3, 'without Normalize the vector keeps its length');
    const n = norm(cls[0] as number[]);
    (clsNorm[0] as number[]).forEach((x, h) =>
      assert.ok(Math.abs(x - ((cls[0] as number[])[h] as number) / n) < 1e-6),
    );
    assert.notDeepEqual(last, mean);
    assert.notDeepEqual(clsNorm, mean);
  });

  it('sentence-transformers fp16: float16 token vectors, pooled in float32, track the fp32 twin', async () => {
    const dir = at('st-fp16');
    writeFp16EncoderFixture(dir, { mode: 'mean', normalize: true });
    const texts = ['hello world', 'the quick brown fox', 'a much longer sentence with many more words in it'];
    const embed = async (dtype: 'fp32' | 'fp16'): Promise<number[][]> => {
      const m = await LocalModel.load(dir, { warmup: false, onnx: { dtype } });
      try {
        assert.equal(m.info.outputType, dtype === 'fp16' ? 'float16' : 'float32');
        return await m.embed(texts);
      } finally {
        await m.close();
      }
    };
    const full = await embed('fp32');
    const half = await embed('fp16');
    half.forEach((v, i) => {
      const f = full[i] as number[];
      const cos = v.reduce((a, x, h) => a + x * (f[h] as number), 0);
      assert.ok(cos > 0.9999, `text ${i}: cosine ${cos} to the fp32 embedding`);
    });
  });

  it('names the file and field of every unsupported folder kind', () => {
    const dir = (name: string, edit: (d: string) => void): string => {
      const d = at(name);
      forgeModel({ arch: 'llama', preset: 'tiny', seed: 1, out: d });
      unlinkSync(join(d, 'hotpath.json'));
      edit(d);
      return d;
    };
    expectInvalid(
      () => loadModelFolder(dir('split', (d) => moveGraph(d, 'decoder_with_past_model.onnx'))),
      /decoder_with_past_model\.onnx: Optimum's split decoder pair is not supported/,
    );
    expectInvalid(
      () => loadModelFolder(dir('seq2seq', (d) => moveGraph(d, 'encoder_model.onnx'))),
      /encoder_model\.onnx: encoder-decoder \(seq2seq\) models are not supported/,
    );
    const two = dir('two-dtypes', (d) => {
      moveGraph(d, 'model_q4.onnx');
      writeFileSync(join(d, 'model_fp16.onnx'), readFileSync(join(d, 'model_q4.onnx')));
    });
    expectInvalid(
      () => loadModelFolder(two),
      /no fp32 graph and no dtype chosen; set dtype to one of: model_fp16\.onnx \(fp16\), model_q4\.onnx \(q4\)/,
    );
    assert.equal(loadModelFolder(two, { dtype: 'q4' }).onnxFile, 'model_q4.onnx');
    const edit = (d: string, file: string, fn: (j: Record<string, unknown>) => void): void => {
      const j = JSON.parse(readFileSync(join(d, file), 'utf8')) as Record<string, unknown>;
      fn(j);
      writeFileSync(join(d, file), JSON.stringify(j));
    };
    expectInvalid(
      () =>
        loadModelFolder(
          dir('wordlevel', (d) =>
            edit(d, 'tokenizer.json', (j) => ((j.model as { type: string }).type = 'WordLevel')),
          ),
        ),
      /tokenizer\.json is not a usable tokenizer \(model\.type "WordLevel" is not supported/,
    );
    expectInvalid(
      () =>
        loadModelFolder(
          dir('no-ctx', (d) => {
            edit(d, 'config.json', (j) => delete j.max_position_embeddings);
            edit(d, 'tokenizer_config.json', (j) => delete j.model_max_length);
          }),
        ),
      /config\.json sets no context length \(max_position_embeddings or n_positions\)/,
    );
    const st = at('st-max');
    writeSentenceTransformersFixture(st, { mode: 'mean', normalize: true });
    edit(st, '1_Pooling/config.json', (j) => {
      j.pooling_mode_mean_tokens = false;
      j.pooling_mode_max_tokens = true;
    });
    expectInvalid(
      () => loadModelFolder(st),
      /1_Pooling\/config\.json pooling_mode_max_tokens is not supported/,
    );
    const dense = at('st-dense');
    writeSentenceTransformersFixture(dense, { mode: 'mean', normalize: false });
    const modules = JSON.parse(readFileSync(join(dense, 'modules.json'), 'utf8')) as unknown[];
    modules.push({ idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
    writeFileSync(join(dense, 'modules.json'), JSON.stringify(modules));
    expectInvalid(
      () => loadModelFolder(dense),
      /modules\.json \[2\]\.type "sentence_transformers\.models\.Dense" is not supported/,
    );
  });
});
