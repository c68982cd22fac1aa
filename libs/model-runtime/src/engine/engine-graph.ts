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
  /** Wide graph only: the long lane's mask, `[B_long, 1, 1, 1, M_long]`. */
  pastBiasLong: 'past_bias_long',
  /** Wide graph only: rows of the short lane, then of the long lane (int64 `[2]`). */
  laneRows: 'lane_rows',
  lastIndex: 'last_index',
  cacheKey: (i: number) => `cache.${i}.key`,
  cacheValue: (i: number) => `cache.${i}.value`,
  /** Wide graph only: the long lane's cache of layer `i`. */
  cacheKeyLong: (i: number) => `cache_long.${i}.key`,
  cacheValueLong: (i: number) => `cache_long.${i}.value`,
  /** GQA graph only: row lengths and the longest total. */
  seqlensK: 'seqlens_k',
  totalLength: 'total_sequence_length',
  logits: 'logits',
  /**
   * Every layer's new keys and values in one tensor: the bytes of `[layer][key|value][B, KVH, S, D]`
   * (wide graph) or `[layer][key|value][B, S, KVH, D]` (GQA graph).
   */
  newKv: 'new_kv',
} as const;

/** The wide graph's inputs of each lane, short lane first (see {@link buildEngineGraph}). */
export const ENGINE_LANE_INPUTS = [
  { pastBias: ENGINE_IO.pastBias, cacheKey: ENGINE_IO.cacheKey, cacheValue: ENGINE_IO.cacheValue },
  {
    pastBias: ENGINE_IO.pastBiasLong,
    cacheKey: ENGINE_IO.cacheKeyLong,
    cacheValue: ENGINE_IO.cacheValueLong,
  },
] as const;

/** Bumped whenever the engine graph changes, so cached graphs of an older shape are rebuilt. */
export const ENGINE_GRAPH_VERSION = 9;

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
export function ropeTables(cfg: LlamaConfig): { cos: Float32Array; sin: Float32Array } {
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

/** One layer's attention as a graph variant builds it (see {@link buildDecoder}). */
interface AttentionArgs {
  b: GraphBuilder;
  layer: number;
  /** The layer's normed input `[B, S, hidden]`. */
  h: string;
  lw: EngineWeights['layers'][number];
  pos: string;
  cos: string;
  sin: string;
}

/** The attention output `[B, S, heads·D]` and the layer's new keys (rotated) and values. */
interface AttentionOut {
  out: string;
  newK: string;
  newV: string;
}

/**
 * What both engine graphs share: embedding, RMSNorms (the residual add fused into
 * SkipSimplifiedLayerNormalization), the gated FFN with gate/up as one MatMul, logits at one
 * position per row, and every layer's new K/V concatenated into one `new_kv` output (one output,
 * not two per layer: each output costs the binding a buffer and a copy per run; concatenated along
 * the batch axis, so no per-tensor Unsqueeze). `attention` builds each layer's attention.
 */
function buildDecoder(
  name: string,
  cfg: LlamaConfig,
  w: EngineWeights,
  newKvShape: readonly (number | string)[],
  inputs: (b: GraphBuilder) => void,
  attention: (a: AttentionArgs) => AttentionOut,
): ProtoWriter {
  const { H, D, I, V } = llamaDims(cfg);
  const b = new GraphBuilder(name);
  const ids = b.input(ENGINE_IO.inputIds, 'int64', ['batch', 'new_tokens']);
  const pos = b.input(ENGINE_IO.positionIds, 'int64', ['batch', 'new_tokens']);
  inputs(b);
  const lastIndex = b.input(ENGINE_IO.lastIndex, 'int64', ['batch']);
  b.output(ENGINE_IO.logits, 'float32', ['batch', V]);
  b.output(ENGINE_IO.newKv, 'float32', newKvShape);
  const newKv: string[] = [];

  const embed = b.initializer('embed', [V, H], w.embed);
  const tables = ropeTables(cfg);
  const cos = b.initializer('rope.cos', [cfg.max_position_embeddings, D / 2], tables.cos);
  const sin = b.initializer('rope.sin', [cfg.max_position_embeddings, D / 2], tables.sin);
  const eps = { f: cfg.rms_norm_eps };
  const guSplit = b.ints([I, I]);

  let x = b.op('Gather', [embed, ids], { axis: 0 });
  let pendingAdd: string | null = null;
  const norm = (gain: Float32Array, gainName: string): string => {
    const g = b.initializer(gainName, [H], gain);
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
      const att = attention({ b, layer: i, h, lw, pos, cos, sin });
      newKv.push(att.newK, att.newV);
      pendingAdd = b.op('MatMul', [att.out, b.initializer(`layers.${i}.o`, [lw.o.length / H, H], lw.o)]);
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

/**
 * The decoding engine's wide graph of a Llama decoder, for many running sequences. Unlike the
 * interoperable graph in the model folder (Optimum naming, `present` = past ⧺ new), it never
 * copies the KV cache:
 *
 * - the cache is an **input** per layer, read in place from the engine's arena (`cache.{i}.key`
 *   and `cache.{i}.value`, both the bytes of `[B, kvHeads, M, D]`, the layout the GQA graph reads
 *   too, so switching graphs moves no data; declared `[B, kvHeads, 1, M, D]`, ready to broadcast
 *   over a KV head's query heads);
 * - only the **new** rows come out (`new_kv`, the bytes of `[2·layers, B, kvHeads, S, D]`: each
 *   layer's keys, already rotated, then its values), and the engine writes them into the arena at
 *   each row's own position;
 * - rows are ragged: `past_bias [B,1,1,1,M]` is 0 on a row's cached positions and −∞ elsewhere,
 *   `self_bias [1,1,1,S,S]` is the causal/padding mask among the S new tokens, so no row is padded
 *   to another row's length;
 * - the rows come in two **lanes**, each with its own cache tensors and width: the short lane
 *   (`cache.{i}.*`, `past_bias`) then the long lane (`cache_long.{i}.*`, `past_bias_long`),
 *   `lane_rows` = [short rows, long rows] (either may be 0). A cache tensor is as wide as its
 *   longest row, so one long prompt would make every row of a single cache read its width; with
 *   the long rows apart, the short ones read only theirs (the engine decides who goes where).
 *   Projections, the new tokens' scores and everything but the cached part of attention run once
 *   over all rows;
 * - each KV head's G query heads are one axis of the products (`[B, kvHeads, G, S, ·]` against the
 *   cache broadcast as `[B, kvHeads, 1, M, D]`): with one new token per row every product is a
 *   one-row GEMM, which onnxruntime runs with its row-vector kernels straight over the cache (no
 *   packing of the cache, no work on padding columns; measured 23 % faster than the cache as the
 *   streamed left operand at 32 rows);
 * - softmax runs once over [cached ⧺ new] scores, then the two value products are summed;
 * - logits only at `last_index` (flat `b·S + s`): one position per row, not every prompt token;
 * - fused onnxruntime contrib ops where the CPU provider has them: SimplifiedLayerNormalization,
 *   SkipSimplifiedLayerNormalization (residual add + RMSNorm), RotaryEmbedding; Q/K/V and
 *   gate/up projections are each one MatMul.
 *
 * `decodeOnly` builds the variant for decode steps alone (one new token per row; the engine runs
 * every prefill on the GQA graph then): no `self_bias`, and the new token's score and value product
 * are elementwise (Mul + ReduceSum, Mul) instead of two MatMuls of one GEMV per row × query head,
 * which on a model with tiny heads cost as much as the cached part of attention.
 */
export function buildEngineGraph(
  cfg: LlamaConfig,
  w: EngineWeights,
  opts: { decodeOnly?: boolean } = {},
): ProtoWriter {
  const { H, NH, KVH, D } = llamaDims(cfg);
  const decodeOnly = opts.decodeOnly === true;
  const G = NH / KVH;
  interface Lane {
    bias: { t: string; width: string };
    cache: { key: string; value: string }[];
  }
  let lanes: Lane[] = [];
  let laneRows = '';
  let selfBias = '';
  let qkvHeads = '';
  let qkvSplit = '';
  return buildDecoder(
    'hotpath-engine',
    cfg,
    w,
    ['layers_kv_batch', KVH, 'new_tokens', D],
    (b) => {
      const bias = (name: string, rows: string, width: string): Lane['bias'] => {
        const t = b.input(name, 'float32', [rows, 1, 1, 1, width]);
        return { t, width: b.op('Slice', [b.op('Shape', [t]), b.ints([4]), b.ints([5])]) };
      };
      // Each lane's own dimension names: its rows and width vary independently.
      const dimNames = [
        { rows: 'short_rows', width: 'cached' },
        { rows: 'long_rows', width: 'cached_long' },
      ];
      lanes = ENGINE_LANE_INPUTS.map((names, l) => {
        const { rows, width } = dimNames[l] as { rows: string; width: string };
        return {
          bias: bias(names.pastBias, rows, width),
          // Declared with the broadcast axis already in place: an Unsqueeze of a graph input is a
          // copy in onnxruntime (measured 7 µs per tensor at 8 rows × 192 positions), the extra
          // axis of 1 in the tensor's dims is free.
          cache: Array.from({ length: cfg.num_hidden_layers }, (_, i) => ({
            key: b.input(names.cacheKey(i), 'float32', [rows, KVH, 1, width, D]),
            value: b.input(names.cacheValue(i), 'float32', [rows, KVH, 1, width, D]),
          })),
        };
      });
      laneRows = b.input(ENGINE_IO.laneRows, 'int64', [2]);
      // One new token per row attends to itself unmasked: no causal mask among new tokens.
      if (!decodeOnly)
        selfBias = b.input(ENGINE_IO.selfBias, 'float32', [1, 1, 1, 'new_tokens', 'new_tokens']);
      qkvHeads = b.ints([0, 0, NH + 2 * KVH, D]);
      qkvSplit = b.ints([NH, KVH, KVH]);
    },
    ({ b, layer, h, lw, pos, cos, sin }) => {
      const swapLast = (t: string): string => b.op('Transpose', [t], { perm: [0, 1, 2, 4, 3] });
      // [B, KVH, S|M, D] → [B, KVH, 1, S|M, D]: broadcast over a KV head's G query heads.
      const perGroup = (t: string): string => b.op('Unsqueeze', [t, b.ints([2])]);
      // 1/√D folded into W_q (RoPE is linear, so it commutes): one Mul per layer fewer.
      const wqkv = b.initializer(
        `layers.${layer}.qkv`,
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
      // [B, NH, S, D] → [B, KVH, G, S, D] (head h = kvHead·G + g).
      const qg = b.op('Reshape', [rope(q), b.ints([0, KVH, G, -1, D])]);
      const kNew = rope(k);
      // One new token per row: its score against itself is a dot product per head, one Mul and
      // one ReduceSum over every row, where a MatMul runs one GEMV per row × query head.
      const newScores = decodeOnly
        ? b.op('ReduceSum', [b.op('Mul', [qg, perGroup(kNew)]), b.ints([-1])], { keepdims: 1 })
        : b.op('Add', [b.op('MatMul', [qg, swapLast(perGroup(kNew))]), selfBias]);
      // Per lane: [cached ⧺ new] scores of its rows, one softmax, then the two value products.
      const byLane = (t: string): string[] => b.node('Split', [t, laneRows], { axis: 0 }, 2) as string[];
      const [qs, news, vs] = [byLane(qg), byLane(newScores), byLane(perGroup(vNew))];
      const ctxs = lanes.map(({ bias, cache }, l) => {
        const layerCache = cache[layer] as { key: string; value: string };
        const [ql, nl, vl] = [qs[l], news[l], vs[l]] as [string, string, string];
        const pastScores = b.op('Add', [b.op('MatMul', [ql, swapLast(layerCache.key)]), bias.t]);
        const probs = b.op('Softmax', [b.op('Concat', [pastScores, nl], { axis: -1 })], { axis: -1 });
        const pastProbs = b.op('Slice', [probs, b.ints([0]), bias.width, b.ints([-1])]);
        const newProbs = b.op('Slice', [probs, bias.width, b.ints([2 ** 31 - 1]), b.ints([-1])]);
        return b.op('Add', [
          b.op('MatMul', [pastProbs, layerCache.value]),
          b.op(decodeOnly ? 'Mul' : 'MatMul', [newProbs, vl]),
        ]);
      });
      const ctx = b.op('Concat', ctxs, { axis: 0 });
      const out = b.op('Reshape', [
        b.op('Transpose', [b.op('Reshape', [ctx, b.ints([0, NH, -1, D])])], { perm: [0, 2, 1, 3] }),
        b.ints([0, 0, NH * D]),
      ]);
      return { out, newK: kNew, newV: vNew };
    },
  );
}

/** Whether onnxruntime's CPU `GroupQueryAttention` kernel accepts this model (it needs D % 8 = 0). */
export function gqaGraphSupported(cfg: LlamaConfig): boolean {
  return cfg.head_dim % 8 === 0;
}

/**
 * The engine's GQA graph, for a few running sequences: each layer's attention is one onnxruntime
 * `GroupQueryAttention` node (com.microsoft, CPU kernel) instead of the wide graph's ~20 operators,
 * which is what a step costs when the batch is small (per-operator overhead, not FLOPs).
 *
 * Same weights, same arena (the same cache layout), same ragged rows: `cache.{i}.key` and
 * `cache.{i}.value` are `[B, KVH, M, D]`, `seqlens_k [B]` (int32) is each row's cached
 * length + S − 1 and `total_sequence_length` the longest, so each row attends to its
 * own cached positions only; the kernel reads only those, not the whole capacity. A row with fewer
 * than S new tokens is right-padded: its padding sits after its real tokens, which causal attention
 * never lets them see, and the engine writes only real tokens into the arena. `new_kv` holds the
 * bytes of `[2·layers, B, S, KVH, D]`. The kernel copies the cache into its own `present` buffer on
 * every run (onnxruntime-node cannot bind one buffer as both), which is why the wide graph wins once
 * batches are large.
 */
export function buildGqaEngineGraph(cfg: LlamaConfig, w: EngineWeights): ProtoWriter {
  const { H, NH, KVH, D } = llamaDims(cfg);
  if (!gqaGraphSupported(cfg))
    throw new Error(`GroupQueryAttention needs head_dim % 8 = 0 (got ${cfg.head_dim})`);
  let seqlensK = '';
  let totalLength = '';
  let cache: { key: string; value: string }[] = [];
  return buildDecoder(
    'hotpath-engine-gqa',
    cfg,
    w,
    ['layers_kv_batch', 'new_tokens', KVH * D],
    (b) => {
      seqlensK = b.input(ENGINE_IO.seqlensK, 'int32', ['batch']);
      totalLength = b.input(ENGINE_IO.totalLength, 'int32', []);
      cache = Array.from({ length: cfg.num_hidden_layers }, (_, i) => ({
        key: b.input(ENGINE_IO.cacheKey(i), 'float32', ['batch', KVH, 'cached', D]),
        value: b.input(ENGINE_IO.cacheValue(i), 'float32', ['batch', KVH, 'cached', D]),
      }));
    },
    ({ b, layer, h, lw, pos, cos, sin }) => {
      const wqkv = b.initializer(
        `layers.${layer}.qkv`,
        [H, (NH + 2 * KVH) * D],
        concatColumns(H, [lw.q, lw.k, lw.v]),
      );
      const [q, k, v] = b.node(
        'Split',
        [b.op('MatMul', [h, wqkv]), b.ints([NH * D, KVH * D, KVH * D])],
        { axis: -1 },
        3,
      ) as [string, string, string];
      // Rotated here rather than by the kernel (do_rotary): the rotated keys are what the arena keeps.
      const rope = (t: string, heads: number): string =>
        b.msNode('RotaryEmbedding', [t, pos, cos, sin], { interleaved: 0, num_heads: heads }, 1)[0] as string;
      const kr = rope(k, KVH);
      const layerCache = cache[layer] as { key: string; value: string };
      const [out] = b.msNode(
        'GroupQueryAttention',
        [rope(q, NH), kr, v, layerCache.key, layerCache.value, seqlensK, totalLength],
        { num_heads: NH, kv_num_heads: KVH },
        3,
      );
      return { out: out as string, newK: kr, newV: v };
    },
  );
}
