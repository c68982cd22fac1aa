import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forgeBertWeights, forgeLlamaWeights, forgeModel } from '../forge/forge';
import { FORGE_PRESETS } from '../forge/forge-presets';
import { buildBertGraph } from '../onnx/bert-graph';
import { buildLlamaGraph } from '../onnx/llama-graph';
import { appendToGraph, externalizeInitializers } from '../onnx/onnx-rewrite';
import { ProtoWriter } from '../onnx/protobuf-writer';
import type { PoolingConfig } from '../model/pooling';

/** A `ValueInfoProto` of a tensor with the given element type and dims. */
function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims)
    shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensor = new ProtoWriter().int(1, elemType).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensor));
}

/** Forges the tiny decoder at `dir` and drops `hotpath.json` (downloaded folders have none). */
function forgeTiny(dir: string, seed = 1): void {
  forgeModel({ arch: 'llama', preset: 'tiny', seed, out: dir });
  rmSync(join(dir, 'hotpath.json'));
}

/**
 * transformers.js / onnx-community layout: `onnx/model.onnx` (fp32, weights in
 * `onnx/model.onnx_data`) and `onnx/model_quantized.onnx` (the q8 slot; here the tiny decoder
 * forged with seed 2, so choosing it visibly changes the output).
 */
export function writeOnnxCommunityFixture(dir: string): void {
  forgeTiny(dir);
  mkdirSync(join(dir, 'onnx'));
  const { model, data } = externalizeInitializers(readFileSync(join(dir, 'model.onnx')), 'model.onnx_data');
  writeFileSync(join(dir, 'onnx', 'model.onnx'), model);
  writeFileSync(join(dir, 'onnx', 'model.onnx_data'), data);
  rmSync(join(dir, 'model.onnx'));
  const other = `${dir}-seed2`;
  forgeTiny(other, 2);
  copyFileSync(join(other, 'model.onnx'), join(dir, 'onnx', 'model_quantized.onnx'));
  rmSync(other, { recursive: true, force: true });
}

/**
 * Optimum layout: `decoder_model_merged.onnx` taking a boolean `use_cache_branch`. The forged graph
 * gets the input plus an `use_cache_branch_seen` int64 output echoing it, so a test can see the
 * flag the runtime fed.
 */
export function writeOptimumFixture(dir: string): void {
  forgeTiny(dir);
  const cast = new ProtoWriter()
    .string(1, 'use_cache_branch')
    .string(2, 'use_cache_branch_seen')
    .string(3, 'echo_use_cache_branch')
    .string(4, 'Cast')
    .message(5, new ProtoWriter().string(1, 'to').int(3, 7).int(20, 2));
  const merged = appendToGraph(readFileSync(join(dir, 'model.onnx')), {
    nodes: [cast],
    inputs: [valueInfo('use_cache_branch', 9, [1])],
    outputs: [valueInfo('use_cache_branch_seen', 7, [1])],
  });
  writeFileSync(join(dir, 'decoder_model_merged.onnx'), merged);
  rmSync(join(dir, 'model.onnx'));
}

/**
 * onnx-community layout with the tiny decoder's forged weights twice, as those repositories ship
 * them: `onnx/model.onnx` (float32; left out when `fp32` is false) and `onnx/model_fp16.onnx`
 * (float16 weights, activations, KV cache and logits; norms, RoPE tables and softmax in float32,
 * as a PyTorch fp16 export computes them).
 */
export function writeFp16DecoderFixture(dir: string, { seed = 1, fp32 = true } = {}): void {
  forgeTiny(dir, seed);
  mkdirSync(join(dir, 'onnx'));
  if (fp32) renameSync(join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
  else rmSync(join(dir, 'model.onnx'));
  const { config, weights } = forgeLlamaWeights(FORGE_PRESETS.tiny, seed);
  const graph = buildLlamaGraph(config, weights, { dtype: 'float16' });
  writeFileSync(join(dir, 'onnx', 'model_fp16.onnx'), graph.toBuffer());
}

/**
 * A sentence-transformers folder: the forged MiniLM-shaped encoder plus `modules.json` and
 * `1_Pooling/config.json` for `pooling` (and a Normalize module when it normalises).
 */
export function writeSentenceTransformersFixture(dir: string, pooling: PoolingConfig): void {
  forgeModel({ arch: 'bert', preset: 'tiny-embed', seed: 1, out: dir });
  rmSync(join(dir, 'hotpath.json'));
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (pooling.normalize)
    modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules, null, 2));
  mkdirSync(join(dir, '1_Pooling'));
  writeFileSync(
    join(dir, '1_Pooling', 'config.json'),
    JSON.stringify({
      word_embedding_dimension: 128,
      pooling_mode_cls_token: pooling.mode === 'cls',
      pooling_mode_mean_tokens: pooling.mode === 'mean',
      pooling_mode_max_tokens: false,
      pooling_mode_mean_sqrt_len_tokens: false,
      pooling_mode_weightedmean_tokens: false,
      pooling_mode_lasttoken: pooling.mode === 'last',
      include_prompt: true,
    }),
  );
}

/**
 * A sentence-transformers folder in the onnx-community layout with the forged encoder twice:
 * `onnx/model.onnx` (float32) and `onnx/model_fp16.onnx` (float16 weights, activations and
 * `last_hidden_state`).
 */
export function writeFp16EncoderFixture(dir: string, pooling: PoolingConfig): void {
  writeSentenceTransformersFixture(dir, pooling);
  mkdirSync(join(dir, 'onnx'));
  renameSync(join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
  const { config, weights } = forgeBertWeights(FORGE_PRESETS['tiny-embed'], 1);
  const graph = buildBertGraph(config, weights, { dtype: 'float16' });
  writeFileSync(join(dir, 'onnx', 'model_fp16.onnx'), graph.toBuffer());
}

/** Moves a folder's `model.onnx` to `to` (relative), e.g. to test a layout the loader rejects. */
export function moveGraph(dir: string, to: string): void {
  renameSync(join(dir, 'model.onnx'), join(dir, to));
}
