import type { LlamaConfig, LlamaWeights } from '../model/model-config';
import { float16Bits, toFloat16 } from '../session/float16';
import { GraphBuilder, OnnxType, type TensorData } from './graph-builder';
import { type ProtoWriter } from './protobuf-writer';

const F32_LOWEST = -3.4028234663852886e38;
/** The most negative finite half (PyTorch's `finfo(float16).min`, its fp16 mask value). */
const F16_LOWEST = -65504;

/** Options of {@link buildLlamaGraph}. */
export interface LlamaGraphOptions {
  /**
   * `float16`: weights, activations, KV cache and logits in half precision, the way a PyTorch fp16
   * export computes them (Hugging Face's Llama upcasts RMSNorm, the RoPE tables and the attention
   * softmax to float32, and masks with the lowest half). Default `float32`.
   */
  dtype?: 'float32' | 'float16';
}

/** `[rows, cols]` row-major → `[cols, rows]`, i.e. a PyTorch `[out,in]` weight → a MatMul `[in,out]` operand. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  if (w.length !== rows * cols) throw new Error(`transpose: ${w.length} values for ${rows}x${cols}`);
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c] as number;
  return out;
}

/** A Llama decoder's graph dimensions (hidden, heads, KV heads, head size, group, FFN, vocab). */
export function llamaDims(cfg: LlamaConfig): {
  H: number;
  NH: number;
  KVH: number;
  D: number;
  G: number;
  I: number;
  V: number;
} {
  const G = cfg.num_attention_heads / cfg.num_key_value_heads;
  if (!Number.isInteger(G)) throw new Error('num_attention_heads must be a multiple of num_key_value_heads');
  return {
    H: cfg.hidden_size,
    NH: cfg.num_attention_heads,
    KVH: cfg.num_key_value_heads,
    D: cfg.head_dim,
    G,
    I: cfg.intermediate_size,
    V: cfg.vocab_size,
  };
}

/** Shared RMSNorm: `g · (x · 1/sqrt(mean(x²) + eps))`, the arithmetic order of llama2.c. */
export function rmsNorm(b: GraphBuilder, x: string, gain: string, eps: string): string {
  const sq = b.op('Mul', [x, x]);
  const mean = b.op('ReduceMean', [sq], { axes: [-1], keepdims: 1 });
  const inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [mean, eps])])]);
  return b.op('Mul', [b.op('Mul', [x, inv]), gain]);
}

/**
 * The ONNX graph of a Llama decoder with KV cache in Hugging Face Optimum naming (`input_ids`,
 * `attention_mask`, `position_ids`, `past_key_values.{i}.key|value` → `logits`, `present.{i}.*`).
 * RoPE uses the Hugging Face rotate-half layout; interleaved (llama2.c) checkpoints have their
 * wq/wk rows permuted at import, which gives the same attention scores.
 * The mask is causal (by absolute cache position) and honours padding in `attention_mask`.
 */
export function buildLlamaGraph(
  cfg: LlamaConfig,
  w: LlamaWeights,
  opts: LlamaGraphOptions = {},
): ProtoWriter {
  const { H, NH, KVH, D, G, I, V } = llamaDims(cfg);
  const b = new GraphBuilder('llama');
  const half = opts.dtype === 'float16';
  const T = half ? 'float16' : 'float32';
  const weight = (x: Float32Array): TensorData => (half ? toFloat16(x) : x);
  const scalar = (v: number): string =>
    half ? b.constant(Uint16Array.of(float16Bits(v)), []) : b.scalarF(v);
  const cast = (x: string, to: 'float32' | 'float16'): string => b.op('Cast', [x], { to: OnnxType[to] });
  const [Bd, Sd, Pd, Td] = ['batch_size', 'sequence_length', 'past_sequence_length', 'total_sequence_length'];

  const ids = b.input('input_ids', 'int64', [Bd, Sd]);
  const mask = b.input('attention_mask', 'int64', [Bd, Td]);
  const pos = b.input('position_ids', 'int64', [Bd, Sd]);
  const past = Array.from({ length: cfg.num_hidden_layers }, (_, i) => ({
    key: b.input(`past_key_values.${i}.key`, T, [Bd, KVH, Pd, D]),
    value: b.input(`past_key_values.${i}.value`, T, [Bd, KVH, Pd, D]),
  }));
  b.output('logits', T, [Bd, Sd, V]);
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    b.output(`present.${i}.key`, T, [Bd, KVH, Td, D]);
    b.output(`present.${i}.value`, T, [Bd, KVH, Td, D]);
  }

  const embed = b.initializer('model.embed_tokens.weight', [V, H], weight(w.embed));
  let x = b.op('Gather', [embed, ids], { axis: 0 });
  const eps = b.scalarF(cfg.rms_norm_eps);
  // A float16 graph normalises in float32 and rounds the result back to half.
  const norm = (input: string, name: string, gain: Float32Array): string => {
    if (!half) return rmsNorm(b, input, b.initializer(name, [H], gain), eps);
    const g = b.initializer(name, [H], toFloat16(gain));
    return cast(rmsNorm(b, cast(input, 'float32'), cast(g, 'float32'), eps), 'float16');
  };

  // RoPE tables from position_ids: angle = pos · θ^(-2j/D), duplicated for the two halves.
  const { cos, sin } = b.withScope('/model/rotary', () => {
    const invFreq = new Float32Array(D / 2);
    for (let j = 0; j < D / 2; j++) invFreq[j] = 1 / Math.pow(cfg.rope_theta, (2 * j) / D);
    const posF = b.op('Unsqueeze', [b.op('Cast', [pos], { to: 1 }), b.ints([2])]);
    const freqs = b.op('Mul', [posF, b.constant(invFreq, [D / 2])]);
    const emb = b.op('Concat', [freqs, freqs], { axis: -1 });
    const axis1 = b.ints([1]);
    const c = b.op('Unsqueeze', [b.op('Cos', [emb]), axis1]);
    const s = b.op('Unsqueeze', [b.op('Sin', [emb]), axis1]);
    return half ? { cos: cast(c, 'float16'), sin: cast(s, 'float16') } : { cos: c, sin: s };
  });

  // allowed[b,1,1,s,t]: key t is at or before query s's absolute position and not padding.
  const allowed = b.withScope('/model/mask', () => {
    const zero = b.scalarI(0);
    const one = b.scalarI(1);
    const sLen = b.op('Gather', [b.op('Shape', [ids]), one], { axis: 0 });
    const tLen = b.op('Gather', [b.op('Shape', [mask]), one], { axis: 0 });
    const pLen = b.op('Sub', [tLen, sLen]);
    const kIdx = b.op('Range', [zero, tLen, one]);
    const qIdx = b.op('Unsqueeze', [b.op('Add', [b.op('Range', [zero, sLen, one]), pLen]), b.ints([1])]);
    const causal = b.op('LessOrEqual', [kIdx, qIdx]);
    const pad = b.op('Unsqueeze', [b.op('Cast', [mask], { to: 9 }), b.ints([1, 2, 3])]);
    return b.op('And', [causal, pad]);
  });
  const lowest = scalar(half ? F16_LOWEST : F32_LOWEST);
  const sqrtD = scalar(Math.sqrt(D));

  const rope = (t: string): string => {
    const [x1, x2] = b.node('Split', [t], { axis: -1 }, 2) as [string, string];
    const rotated = b.op('Concat', [b.op('Neg', [x2]), x1], { axis: -1 });
    return b.op('Add', [b.op('Mul', [t, cos]), b.op('Mul', [rotated, sin])]);
  };

  w.layers.forEach((lw, i) => {
    b.withScope(`/model/layers.${i}`, () => {
      const p = `model.layers.${i}`;
      const h = norm(x, `${p}.input_layernorm.weight`, lw.attnNorm);
      const proj = (name: string, wt: Float32Array, out: number, heads: number): string => {
        const y = b.op('MatMul', [
          h,
          b.initializer(`${p}.self_attn.${name}.weight_t`, [H, out], weight(transpose(wt, out, H))),
        ]);
        return b.op('Transpose', [b.op('Reshape', [y, b.ints([0, 0, heads, D])])], { perm: [0, 2, 1, 3] });
      };
      const q = rope(proj('q_proj', lw.wq, NH * D, NH));
      const k = rope(proj('k_proj', lw.wk, KVH * D, KVH));
      const v = proj('v_proj', lw.wv, KVH * D, KVH);
      const layerPast = past[i] as { key: string; value: string };
      const presentK = b.op('Concat', [layerPast.key, k], { axis: 2 }, `present.${i}.key`);
      const presentV = b.op('Concat', [layerPast.value, v], { axis: 2 }, `present.${i}.value`);
      // Grouped-query attention without repeating KV: queries as [B, KVH, G, S, D] broadcast over KV heads.
      const q5 = b.op('Reshape', [q, b.ints([0, KVH, G, -1, D])]);
      const axis2 = b.ints([2]);
      const kT = b.op('Transpose', [b.op('Unsqueeze', [presentK, axis2])], { perm: [0, 1, 2, 4, 3] });
      const scores = b.op('Div', [b.op('MatMul', [q5, kT]), sqrtD]);
      const masked = b.op('Where', [allowed, scores, lowest]);
      const probs = half
        ? cast(b.op('Softmax', [cast(masked, 'float32')], { axis: -1 }), 'float16')
        : b.op('Softmax', [masked], { axis: -1 });
      const ctx5 = b.op('MatMul', [probs, b.op('Unsqueeze', [presentV, axis2])]);
      const ctx = b.op('Reshape', [
        b.op('Transpose', [b.op('Reshape', [ctx5, b.ints([0, NH, -1, D])])], { perm: [0, 2, 1, 3] }),
        b.ints([0, 0, NH * D]),
      ]);
      const o = b.op('MatMul', [
        ctx,
        b.initializer(`${p}.self_attn.o_proj.weight_t`, [NH * D, H], weight(transpose(lw.wo, H, NH * D))),
      ]);
      x = b.op('Add', [x, o]);
      const h2 = norm(x, `${p}.post_attention_layernorm.weight`, lw.ffnNorm);
      const gate = b.op('MatMul', [
        h2,
        b.initializer(`${p}.mlp.gate_proj.weight_t`, [H, I], weight(transpose(lw.w1, I, H))),
      ]);
      const up = b.op('MatMul', [
        h2,
        b.initializer(`${p}.mlp.up_proj.weight_t`, [H, I], weight(transpose(lw.w3, I, H))),
      ]);
      const act = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate])]), up]);
      const down = b.op('MatMul', [
        act,
        b.initializer(`${p}.mlp.down_proj.weight_t`, [I, H], weight(transpose(lw.w2, H, I))),
      ]);
      x = b.op('Add', [x, down]);
    });
  });

  const xn = norm(x, 'model.norm.weight', w.finalNorm);
  const head = w.lmHead
    ? b.initializer('lm_head.weight_t', [H, V], weight(transpose(w.lmHead, V, H)))
    : b.op('Transpose', [embed], { perm: [1, 0] });
  b.op('MatMul', [xn, head], {}, 'logits');
  return b.toModelProto({ model_type: 'llama' });
}
