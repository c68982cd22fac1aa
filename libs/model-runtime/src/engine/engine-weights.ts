import type { LlamaConfig } from '../model/model-config';
import type { OnnxInitializer } from '../onnx/onnx-initializers';
import { readFloatWeights } from '../optimize/graph-weights';

/**
 * A Llama decoder's weights as the engine graph consumes them: every projection already in
 * MatMul layout `[in, out]` (the `*.weight_t` initializers Hotpath writes), norms as gains.
 */
export interface EngineWeights {
  /** `[vocab, hidden]`. */
  embed: Float32Array;
  layers: {
    attnNorm: Float32Array;
    /** `[hidden, heads·headDim]`, `[hidden, kvHeads·headDim]` ×2, `[heads·headDim, hidden]`. */
    q: Float32Array;
    k: Float32Array;
    v: Float32Array;
    o: Float32Array;
    ffnNorm: Float32Array;
    /** `[hidden, intermediate]` ×2 and `[intermediate, hidden]`. */
    gate: Float32Array;
    up: Float32Array;
    down: Float32Array;
  }[];
  finalNorm: Float32Array;
  /** `[hidden, vocab]`; null when the classifier is tied to the embedding. */
  head: Float32Array | null;
}

/** Why a folder's graph cannot feed the engine (it then runs on the plain graph). */
export class EngineWeightsUnavailable extends Error {}

/**
 * The engine's weights from a Hotpath-written Llama graph (forged, imported from llama2.c, or any
 * folder with the same initializer names), quantized weights dequantized to what their kernels use. Throws {@link EngineWeightsUnavailable} naming the first
 * missing or mis-shaped tensor; callers fall back to the plain graph.
 */
export function engineWeightsFromOnnx(model: Uint8Array, cfg: LlamaConfig): EngineWeights {
  let inits: Map<string, OnnxInitializer>;
  try {
    inits = readFloatWeights(model);
  } catch (err) {
    throw new EngineWeightsUnavailable(`model.onnx: ${(err as Error).message}`);
  }
  const H = cfg.hidden_size;
  const get = (name: string, dims: readonly number[]): Float32Array => {
    const t = inits.get(name);
    if (!t) throw new EngineWeightsUnavailable(`no float32 initializer ${name}`);
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i]))
      throw new EngineWeightsUnavailable(`${name} has dims ${t.dims.join('x')}, expected ${dims.join('x')}`);
    return t.data;
  };
  const D = cfg.head_dim;
  const qOut = cfg.num_attention_heads * D;
  const kvOut = cfg.num_key_value_heads * D;
  const I = cfg.intermediate_size;
  const layers = Array.from({ length: cfg.num_hidden_layers }, (_, i) => {
    const p = `model.layers.${i}`;
    return {
      attnNorm: get(`${p}.input_layernorm.weight`, [H]),
      q: get(`${p}.self_attn.q_proj.weight_t`, [H, qOut]),
      k: get(`${p}.self_attn.k_proj.weight_t`, [H, kvOut]),
      v: get(`${p}.self_attn.v_proj.weight_t`, [H, kvOut]),
      o: get(`${p}.self_attn.o_proj.weight_t`, [qOut, H]),
      ffnNorm: get(`${p}.post_attention_layernorm.weight`, [H]),
      gate: get(`${p}.mlp.gate_proj.weight_t`, [H, I]),
      up: get(`${p}.mlp.up_proj.weight_t`, [H, I]),
      down: get(`${p}.mlp.down_proj.weight_t`, [I, H]),
    };
  });
  return {
    embed: get('model.embed_tokens.weight', [cfg.vocab_size, H]),
    layers,
    finalNorm: get('model.norm.weight', [H]),
    // The graph ties the classifier to the embedding exactly when it stores no lm_head.
    head: inits.has('lm_head.weight_t') ? get('lm_head.weight_t', [H, cfg.vocab_size]) : null,
  };
}
