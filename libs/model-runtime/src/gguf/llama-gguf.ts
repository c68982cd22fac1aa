import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import type { LlamaConfig } from '../model/model-config';
import { readFolderJson } from '../model/model-folder';
import { loadModelFolder } from '../model/model-loader';
import { transpose } from '../onnx/llama-graph';
import { readOnnxInitializers, type OnnxInitializer } from '../onnx/onnx-initializers';
import type { TokenizerJson } from '@hotpath/tokenizer';
import { Q8_0_BLOCK } from './gguf-quant';
import { ggufVocab } from './gguf-tokenizer';
import { writeGguf, type GgmlTypeName, type GgufTensor, type GgufValue } from './gguf-writer';

/** Storage types `hotpath models export-gguf --type` accepts. */
export const GGUF_EXPORT_TYPES = ['f32', 'f16', 'q8_0'] as const;
export type GgufExportType = (typeof GGUF_EXPORT_TYPES)[number];

/** Options of {@link exportLlamaGguf}. */
export interface ExportGgufOptions {
  /** A Llama model folder (forged, imported from llama2.c, or converted). */
  dir: string;
  out: string;
  /** Matrices as F32 (default), F16 or Q8_0 (F16 where a row is not a multiple of 32); norms stay F32. */
  type?: GgufExportType;
}

/** What {@link exportLlamaGguf} wrote. */
export interface ExportGgufResult {
  out: string;
  bytes: number;
  tensors: number;
  /** Tensors stored in another type than asked (Q8_0 rows that are not a multiple of 32). */
  fallbacks: string[];
}

/** ggml's `llama_ftype` for `general.file_type`. */
const FILE_TYPE: Record<GgufExportType, number> = { f32: 0, f16: 1, q8_0: 7 };

/**
 * Reorders the rows of a `[heads·head, in]` query/key matrix from Hugging Face's rotate-half RoPE
 * pairs `(m, m+head/2)` to the interleaved pairs `(2m, 2m+1)` that llama.cpp's `llama`
 * architecture rotates (the inverse of `permuteForRotateHalf`, as `convert_hf_to_gguf.py` does).
 */
export function permuteToInterleaved(
  w: Float32Array,
  heads: number,
  head: number,
  cols: number,
): Float32Array {
  const out = new Float32Array(w.length);
  const half = head / 2;
  for (let h = 0; h < heads; h++) {
    for (let m = 0; m < half; m++) {
      const a = (h * head + m) * cols;
      const b = (h * head + half + m) * cols;
      out.set(w.subarray(a, a + cols), (h * head + 2 * m) * cols);
      out.set(w.subarray(b, b + cols), (h * head + 2 * m + 1) * cols);
    }
  }
  return out;
}

/**
 * Writes a Llama model folder as GGUF v3 for llama.cpp's `llama` architecture: the weights read
 * back out of `model.onnx` (`*.weight_t` MatMul operands transposed back to `[out, in]`, q/k rows
 * permuted back to interleaved RoPE pairs), the hyper-parameters of `config.json`, and the
 * tokenizer as a SentencePiece-style vocabulary, so llama.cpp decodes the same greedy tokens from
 * the same prompt ids. The file is written next to `out` and renamed into place.
 */
export function exportLlamaGguf(opts: ExportGgufOptions): ExportGgufResult {
  const type = opts.type ?? 'f32';
  const model = loadModelFolder(opts.dir);
  const fail = (msg: string): never => {
    throw new HotpathError(ErrorCode.InvalidModel, `model folder ${model.dir}: ${msg}`);
  };
  if (model.config.model_type !== 'llama')
    fail('GGUF export needs a Llama decoder (config.json model_type "llama")');
  const c = model.config as LlamaConfig;
  const H = c.hidden_size;
  const D = c.head_dim;
  const NH = c.num_attention_heads;
  const KVH = c.num_key_value_heads;
  const I = c.intermediate_size;
  const V = c.vocab_size;
  const inits = readOnnxInitializers(readFileSync(model.onnxPath));
  const take = (name: string, size: number): OnnxInitializer => {
    const t = inits.get(name) ?? fail(`model.onnx has no float initializer ${name}`);
    if (t.data.length !== size) fail(`model.onnx ${name} has ${t.data.length} values, expected ${size}`);
    return t;
  };
  /** A `[in, out]` MatMul operand back in PyTorch `[out, in]` layout. */
  const matrix = (name: string, inDim: number, outDim: number): Float32Array =>
    transpose(take(name, inDim * outDim).data, inDim, outDim);

  const fallbacks: string[] = [];
  const tensors: GgufTensor[] = [];
  const weight = (name: string, data: Float32Array, cols: number, rows: number): void => {
    let t: GgmlTypeName = type === 'f32' ? 'F32' : type === 'f16' ? 'F16' : 'Q8_0';
    if (t === 'Q8_0' && cols % Q8_0_BLOCK !== 0) {
      t = 'F16';
      fallbacks.push(name);
    }
    tensors.push({ name, shape: [cols, rows], data, type: t });
  };
  const norm = (name: string, data: Float32Array): void => {
    tensors.push({ name, shape: [data.length], data, type: 'F32' });
  };

  weight('token_embd.weight', take('model.embed_tokens.weight', V * H).data, H, V);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    const b = `blk.${i}`;
    norm(`${b}.attn_norm.weight`, take(`${p}.input_layernorm.weight`, H).data);
    const q = matrix(`${p}.self_attn.q_proj.weight_t`, H, NH * D);
    const k = matrix(`${p}.self_attn.k_proj.weight_t`, H, KVH * D);
    weight(`${b}.attn_q.weight`, permuteToInterleaved(q, NH, D, H), H, NH * D);
    weight(`${b}.attn_k.weight`, permuteToInterleaved(k, KVH, D, H), H, KVH * D);
    weight(`${b}.attn_v.weight`, matrix(`${p}.self_attn.v_proj.weight_t`, H, KVH * D), H, KVH * D);
    weight(`${b}.attn_output.weight`, matrix(`${p}.self_attn.o_proj.weight_t`, NH * D, H), NH * D, H);
    norm(`${b}.ffn_norm.weight`, take(`${p}.post_attention_layernorm.weight`, H).data);
    weight(`${b}.ffn_gate.weight`, matrix(`${p}.mlp.gate_proj.weight_t`, H, I), H, I);
    weight(`${b}.ffn_up.weight`, matrix(`${p}.mlp.up_proj.weight_t`, H, I), H, I);
    weight(`${b}.ffn_down.weight`, matrix(`${p}.mlp.down_proj.weight_t`, I, H), I, H);
  }
  norm('output_norm.weight', take('model.norm.weight', H).data);
  // A tied classifier has no tensor of its own: llama.cpp then reuses token_embd.
  if (inits.has('lm_head.weight_t')) weight('output.weight', matrix('lm_head.weight_t', H, V), H, V);
  else if (!c.tie_word_embeddings)
    fail('config.json says the classifier is not tied but model.onnx has no lm_head.weight_t');

  const tokenizer = readFolderJson<TokenizerJson>(model.dir, 'tokenizer.json', true) as TokenizerJson;
  const vocab = ggufVocab(tokenizer, V, model.tokenizer.unkId);
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const meta = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: basename(model.dir) }],
    ['general.file_type', u32(FILE_TYPE[type])],
    ['general.quantization_version', u32(2)],
    ['general.alignment', u32(32)],
    ['llama.vocab_size', u32(V)],
    ['llama.context_length', u32(c.max_position_embeddings)],
    ['llama.embedding_length', u32(H)],
    ['llama.block_count', u32(c.num_hidden_layers)],
    ['llama.feed_forward_length', u32(I)],
    ['llama.attention.head_count', u32(NH)],
    ['llama.attention.head_count_kv', u32(KVH)],
    ['llama.attention.key_length', u32(D)],
    ['llama.attention.value_length', u32(D)],
    ['llama.rope.dimension_count', u32(D)],
    ['llama.rope.freq_base', { type: 'float32', value: c.rope_theta }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'float32', value: c.rms_norm_eps }],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'float32[]', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'int32[]', value: vocab.tokenTypes }],
  ]);
  const eos = Array.isArray(c.eos_token_id) ? c.eos_token_id[0] : c.eos_token_id;
  const ids: [string, number | undefined][] = [
    ['tokenizer.ggml.bos_token_id', c.bos_token_id],
    ['tokenizer.ggml.eos_token_id', eos ?? model.eosIds[0]],
    ['tokenizer.ggml.unknown_token_id', model.tokenizer.unkId],
    ['tokenizer.ggml.padding_token_id', c.pad_token_id],
  ];
  for (const [key, id] of ids) if (id !== undefined) meta.set(key, u32(id));
  meta.set('tokenizer.ggml.add_bos_token', { type: 'bool', value: model.tokenizer.bosId !== undefined });
  meta.set('tokenizer.ggml.add_eos_token', { type: 'bool', value: false });

  const file = writeGguf(meta, tensors);
  const tmp = `${opts.out}.tmp-${process.pid}`;
  writeFileSync(tmp, file);
  renameSync(tmp, opts.out);
  return { out: opts.out, bytes: file.length, tensors: tensors.length, fallbacks };
}
