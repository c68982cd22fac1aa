import type { LlamaConfig } from '../model/model-config';
import { GraphBuilder } from '../onnx/graph-builder';
import { llamaDims, transpose } from '../onnx/llama-graph';
import type { ProtoWriter } from '../onnx/protobuf-writer';
import type { EngineWeights } from './engine-weights';

/** Graph input and output names of the engine graph (see {@link buildEngineGraph}). */
export const ENGINE_IO = {
  inputIds: 'input_ids',
  positionIds: 'position_ids',
  pastBias: 'past_bias',
  selfBias: 'self_bias',
  lastIndex: 'last_index',
  cacheKey: (i: number) => `cache.${i}.key`,
  cacheValueT: (i: number) => `cache.${i}.value_t`,
  logits: 'logits',
  /**
   * Every layer's new keys and values in one tensor, `[2·layers·B, KVH, S, D]`: the bytes of
   * `[layer][key|value][B, KVH, S, D]`.
   */
  newKv: 'new_kv',
} as const;

/** Bumped whenever the engine graph changes, so cached graphs of an older shape are rebuilt. */
export const ENGINE_GRAPH_VERSION = 5;

/** Row-wise concatenation of `[rows, a]` and `[rows, b]` … matrices into `[rows, a + b + …]`. */
function concatColumns(rows: number, parts: readonly Float32Array[]): Float32Array {
  const widths = parts.map((p) => p.length / rows);
  const total = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let at = r * total;
    parts.forEach((p, i) => {
      const w = widths[i] as number;
      out.set(p.subarray(r * w, (r + 1) * w), at);
      at += w;
    });
  }
  return out;
}

function scaled(w: Float32Array, by: number): Float32Array {
  return Float32Array.from(w, (v) => v * by);
}

/**
 * RoPE tables `[positions, headDim/2]` in float32 arithmetic, as the plain graph computes them
 * (angle = float32(pos · float32(θ^(-2j/D)))), so both graphs rotate by the same angles.
 */
function ropeTables(cfg: LlamaConfig): { cos: Float32Array; sin: Float32Array } {
  const half = cfg.head_dim / 2;
  const P = cfg.max_position_embeddings;
  const cos = new Float32Array(P * half);
  const sin = new Float32Array(P * half);
  for (let j = 0; j < half; j++) {
    const inv = Math.fround(1 / Math.pow(cfg.rope_theta, (2 * j) / cfg.head_dim));
    for (let p = 0; p < P; p++) {
      const angle = Math.fround(p * inv);
      cos[p * half + j] = Math.cos(angle);
      sin[p * half + j] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * The decoding engine's graph of a Llama decoder. Unlike the interoperable graph in the model
 * folder (Optimum naming, `present` = past ⧺ new), it never copies the KV cache:
 *
 * - the cache is an **input** per layer, read in place from the engine's arena (`cache.{i}.key`
 *   `[B, kvHeads, M, D]` and `cache.{i}.value_t` `[B, kvHeads, D, M]`, V stored transposed so both
 *   attention products stream the cache as the left, unpacked GEMM operand);
 * - only the **new** rows come out (`new_kv`, the bytes of `[2·layers, B, kvHeads, S, D]`: each layer's keys,
 *   already rotated, then its values),
 *   and the engine writes them into the arena at each row's own position;
 * - rows are ragged: `past_bias [B,1,M,G·S]` is 0 on a row's cached positions and −∞ elsewhere
 *   (laid out like the scores it is added to, so the add broadcasts over whole rows only),
 *   `self_bias [1,1,G·S,S]` is the causal/padding mask among the S new tokens (tiled over the
 *   G query heads of a KV head), so no row is padded to another row's length;
 * - softmax runs once over [cached ⧺ new] scores, then the two value products are summed;
 * - logits only at `last_index` (flat `b·S + s`): one position per row, not every prompt token;
 * - fused onnxruntime contrib ops where the CPU provider has them: SimplifiedLayerNormalization,
 *   SkipSimplifiedLayerNormalization (residual add + RMSNorm), RotaryEmbedding; Q/K/V and
 *   gate/up projections are each one MatMul.
 */
export function buildEngineGraph(cfg: LlamaConfig, w: EngineWeights): ProtoWriter {
  const { H, NH, KVH, D, I, V } = llamaDims(cfg);
  const b = new GraphBuilder('hotpath-engine');
  const [Bd, Sd, Md, GSd] = ['batch', 'new_tokens', 'cached', 'grouped_queries'];

  const ids = b.input(ENGINE_IO.inputIds, 'int64', [Bd, Sd]);
  const pos = b.input(ENGINE_IO.positionIds, 'int64', [Bd, Sd]);
  const pastBias = b.input(ENGINE_IO.pastBias, 'float32', [Bd, 1, Md, GSd]);
  const selfBias = b.input(ENGINE_IO.selfBias, 'float32', [1, 1, GSd, Sd]);
  const lastIndex = b.input(ENGINE_IO.lastIndex, 'int64', [Bd]);
  const cache = Array.from({ length: cfg.num_hidden_layers }, (_, i) => ({
    key: b.input(ENGINE_IO.cacheKey(i), 'float32', [Bd, KVH, Md, D]),
    valueT: b.input(ENGINE_IO.cacheValueT(i), 'float32', [Bd, KVH, D, Md]),
  }));
  b.output(ENGINE_IO.logits, 'float32', [Bd, V]);
  // One output, not two per layer: each output costs the binding a buffer and a copy per run.
  // Concatenated along the batch axis, so no per-tensor Unsqueeze: the same bytes as [2L, B, …].
  b.output(ENGINE_IO.newKv, 'float32', ['layers_kv_batch', KVH, Sd, D]);
  const newKv: string[] = [];

  const embed = b.initializer('embed', [V, H], w.embed);
  const tables = ropeTables(cfg);
  const cos = b.initializer('rope.cos', [cfg.max_position_embeddings, D / 2], tables.cos);
  const sin = b.initializer('rope.sin', [cfg.max_position_embeddings, D / 2], tables.sin);
  const eps = { f: cfg.rms_norm_eps };
  const swapLast = (t: string): string => b.op('Transpose', [t], { perm: [0, 1, 3, 2] });
  const cachedLen = b.op('Slice', [b.op('Shape', [pastBias]), b.ints([2]), b.ints([3])]);
  const qkvHeads = b.ints([0, 0, NH + 2 * KVH, D]);
  const qkvSplit = b.ints([NH, KVH, KVH]);
  const guSplit = b.ints([I, I]);

  let x = b.op('Gather', [embed, ids], { axis: 0 });
  let pendingAdd: string | null = null;
  const norm = (gain: Float32Array, name: string): string => {
    const g = b.initializer(name, [H], gain);
    if (pendingAdd === null) return b.op('SimplifiedLayerNormalization', [x, g], { axis: -1, epsilon: eps });
    const [normed, , , sum] = b.msNode(
      'SkipSimplifiedLayerNormalization',
      [pendingAdd, x, g],
      { epsilon: eps },
      4,
    );
    x = sum as string;
    pendingAdd = null;
    return normed as string;
  };

  w.layers.forEach((lw, i) => {
    b.withScope(`/layers.${i}`, () => {
      const h = norm(lw.attnNorm, `layers.${i}.attn_norm`);
      // 1/√D folded into W_q (RoPE is linear, so it commutes): one Mul per layer fewer.
      const wqkv = b.initializer(
        `layers.${i}.qkv`,
        [H, (NH + 2 * KVH) * D],
        concatColumns(H, [scaled(lw.q, 1 / Math.sqrt(D)), lw.k, lw.v]),
      );
      // One Reshape + Transpose puts every head of Q, K and V in [B, heads, S, D], then one Split.
      const heads = b.op('Transpose', [b.op('Reshape', [b.op('MatMul', [h, wqkv]), qkvHeads])], {
        perm: [0, 2, 1, 3],
      });
      const [q, k, vNew] = b.node('Split', [heads, qkvSplit], { axis: 1 }, 3) as [string, string, string];
      const rope = (t: string): string =>
        b.msNode('RotaryEmbedding', [t, pos, cos, sin], { interleaved: 0 }, 1)[0] as string;
      // [B, NH, S, D] → [B, KVH, G·S, D]: the G query heads of a KV head share one product with its cache.
      const qg = b.op('Reshape', [rope(q), b.ints([0, KVH, -1, D])]);
      const kNew = rope(k);
      newKv.push(kNew, vNew);
      const layerCache = cache[i] as { key: string; valueT: string };
      // Scores against the cache as cache·qᵀ ([B,KVH,M,G·S]): the cache is the GEMM's streamed operand.
      const pastScores = swapLast(b.op('Add', [b.op('MatMul', [layerCache.key, swapLast(qg)]), pastBias]));
      const newScores = b.op('Add', [b.op('MatMul', [qg, swapLast(kNew)]), selfBias]);
      const probs = b.op('Softmax', [b.op('Concat', [pastScores, newScores], { axis: -1 })], { axis: -1 });
      const pastProbs = b.op('Slice', [probs, b.ints([0]), cachedLen, b.ints([-1])]);
      const newProbs = b.op('Slice', [probs, cachedLen, b.ints([2 ** 31 - 1]), b.ints([-1])]);
      const fromCache = swapLast(b.op('MatMul', [layerCache.valueT, swapLast(pastProbs)]));
      const ctx = b.op('Add', [fromCache, b.op('MatMul', [newProbs, vNew])]);
      const merged = b.op('Reshape', [
        b.op('Transpose', [b.op('Reshape', [ctx, b.ints([0, NH, -1, D])])], { perm: [0, 2, 1, 3] }),
        b.ints([0, 0, NH * D]),
      ]);
      pendingAdd = b.op('MatMul', [merged, b.initializer(`layers.${i}.o`, [NH * D, H], lw.o)]);
      const h2 = norm(lw.ffnNorm, `layers.${i}.ffn_norm`);
      const wgu = b.initializer(`layers.${i}.gate_up`, [H, 2 * I], concatColumns(H, [lw.gate, lw.up]));
      const [gate, up] = b.node('Split', [b.op('MatMul', [h2, wgu]), guSplit], { axis: -1 }, 2) as [
        string,
        string,
      ];
      const act = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate])]), up]);
      pendingAdd = b.op('MatMul', [act, b.initializer(`layers.${i}.down`, [I, H], lw.down)]);
    });
  });

  b.op('Concat', newKv, { axis: 0 }, ENGINE_IO.newKv);
  const xn = norm(w.finalNorm, 'final_norm');
  const last = b.op('Gather', [b.op('Reshape', [xn, b.ints([-1, H])]), lastIndex], { axis: 0 });
  const head = b.initializer('lm_head', [H, V], w.head ?? transpose(w.embed, V, H));
  b.op('MatMul', [last, head], {}, ENGINE_IO.logits);
  return b.toModelProto({ model_type: 'llama', hotpath_engine_graph: String(ENGINE_GRAPH_VERSION) });
}
