import { ErrorCode, HotpathError } from '@hotpath/contracts';
import type { EngineWeights } from '../engine/engine-weights';
import type { LlamaConfig } from '../model/model-config';
import { ropeTables } from '../engine/engine-graph';
import { readSlotBlock, writeSlotBlock, type SlotLayout } from '../engine/kv-arena';
import { instantiateKernel, type LlamaKernel } from './wasm-kernel';

const F32 = 4;
/** WebAssembly's 32-bit address space, less the last page. */
const WASM_MEMORY_MAX = 2 ** 32 - 65536;
const ceil = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Why the kernels cannot run this shape (null: they can). They need a hidden size that is a multiple
 * of 8 (matmul columns), a head size that is a multiple of 4 (attention), whole groups of query heads.
 */
export function wasmShapeUnfit(cfg: LlamaConfig): string | null {
  if (cfg.hidden_size % 8 !== 0) return `hidden size ${cfg.hidden_size} is not a multiple of 8`;
  if (cfg.head_dim % 4 !== 0) return `head size ${cfg.head_dim} is not a multiple of 4`;
  if (cfg.num_attention_heads % cfg.num_key_value_heads !== 0)
    return `${cfg.num_attention_heads} heads do not group onto ${cfg.num_key_value_heads} KV heads`;
  return null;
}

/** Bytes of KV cache one sequence slot holds (every layer, keys and values, the whole context). */
export function wasmSlotBytes(cfg: LlamaConfig): number {
  return (
    cfg.num_hidden_layers * 2 * cfg.num_key_value_heads * cfg.max_position_embeddings * cfg.head_dim * F32
  );
}

interface LayerPlan {
  attnNorm: number;
  qkv: number;
  o: number;
  ffnNorm: number;
  gateUp: number;
  down: number;
  k: number;
  v: number;
}

/**
 * One Llama decoder in a WASM kernel instance: its weights laid out for the kernels (q/k/v and
 * gate/up fused, columns padded to multiples of 8 with zeros), a KV cache of `slots` × the whole
 * context (`[slots, kvHeads, positions, headDim]` per layer, as the arena), and activations for
 * forwards of up to `maxTokens` tokens. {@link forward} runs a flat batch of tokens, each at its own
 * (slot, position): prompts of several tokens, decode steps of one, or both at once.
 */
export class WasmLlama {
  readonly cfg: LlamaConfig;
  readonly maxTokens: number;
  readonly slots: number;
  /** Columns of the fused q/k/v output and of the classifier, padded. */
  private readonly qkvN: number;
  private readonly interN: number;
  readonly vocabStride: number;
  private readonly kernel: LlamaKernel;
  private readonly layers: LayerPlan[];
  private readonly at: Record<
    | 'embed'
    | 'finalNorm'
    | 'head'
    | 'cos'
    | 'sin'
    | 'x'
    | 'xn'
    | 'qkv'
    | 'att'
    | 'gu'
    | 'act'
    | 'tokens'
    | 'pos'
    | 'slot'
    | 'rows'
    | 'xo'
    | 'logits'
    | 'scores',
    number
  >;
  /** Bytes of KV cache (all slots). */
  readonly kvBytes: number;
  /** Floats of one layer's keys (or values), all slots. */
  private readonly kvFloats: number;
  private readonly slotLayout: SlotLayout;
  private f32!: Float32Array;
  private i32!: Int32Array;

  constructor(cfg: LlamaConfig, w: EngineWeights, slots: number, maxTokens: number) {
    const why = wasmShapeUnfit(cfg);
    if (why) throw new RangeError(`the WASM engine cannot run this model: ${why}`);
    this.cfg = cfg;
    this.slots = slots;
    this.maxTokens = maxTokens;
    const H = cfg.hidden_size;
    const D = cfg.head_dim;
    const NH = cfg.num_attention_heads;
    const KVH = cfg.num_key_value_heads;
    const P = cfg.max_position_embeddings;
    const I = ceil(cfg.intermediate_size, 4);
    const V = cfg.vocab_size;
    this.qkvN = ceil((NH + 2 * KVH) * D, 8);
    this.interN = I;
    this.vocabStride = ceil(V, 8);
    const T = maxTokens;
    this.kernel = instantiateKernel();

    // The memory plan: float offsets (16-byte aligned), laid out after the module's own pages.
    let next = this.kernel.memory.buffer.byteLength;
    const take = (floats: number): number => {
      const at = next;
      next += ceil(floats * F32, 64);
      return at;
    };
    const kvFloats = slots * KVH * P * D;
    this.kvFloats = kvFloats;
    this.slotLayout = { kvHeads: KVH, positions: P, headDim: D };
    this.layers = w.layers.map(() => ({
      attnNorm: take(H),
      qkv: take(H * this.qkvN),
      o: take(NH * D * H),
      ffnNorm: take(H),
      gateUp: take(H * 2 * I),
      down: take(I * H),
      k: 0,
      v: 0,
    }));
    this.at = {
      embed: take(V * H),
      finalNorm: take(H),
      head: take(H * this.vocabStride),
      cos: take((P * D) / 2),
      sin: take((P * D) / 2),
      x: take(T * H),
      xn: take(T * H),
      qkv: take(T * this.qkvN),
      att: take(T * NH * D),
      gu: take(T * 2 * I),
      act: take(T * I),
      tokens: take(T),
      pos: take(T),
      slot: take(T),
      rows: take(T),
      xo: take(T * H),
      logits: take(T * this.vocabStride),
      scores: take(2 * (P + 4)),
    };
    const kvStart = next;
    for (const l of this.layers) {
      l.k = take(kvFloats);
      l.v = take(kvFloats);
    }
    this.kvBytes = next - kvStart;
    if (next > WASM_MEMORY_MAX)
      throw new HotpathError(
        ErrorCode.Capacity,
        `the WASM engine would need ${(next / 2 ** 30).toFixed(2)} GiB (weights, ${slots} KV slots, activations); ` +
          `WebAssembly memory holds 4 GiB: lower batching.continuous.max_running_sequences or use engine arena`,
      );
    const pages = Math.ceil((next - this.kernel.memory.buffer.byteLength) / 65536);
    if (pages > 0) this.kernel.memory.grow(pages);
    this.views();
    this.writeWeights(w);
  }

  /** Views of the memory (after a grow the old ones are detached). */
  private views(): void {
    this.f32 = new Float32Array(this.kernel.memory.buffer);
    this.i32 = new Int32Array(this.kernel.memory.buffer);
  }

  private writeWeights(w: EngineWeights): void {
    const cfg = this.cfg;
    const H = cfg.hidden_size;
    const D = cfg.head_dim;
    const q = cfg.num_attention_heads * D;
    const kv = cfg.num_key_value_heads * D;
    const I = cfg.intermediate_size;
    const put = (at: number, data: Float32Array): void => this.f32.set(data, at / F32);
    // Columns of `src` ([rows, cols]) into `[rows, stride]` at column `col`.
    const putColumns = (
      at: number,
      src: Float32Array,
      rows: number,
      cols: number,
      stride: number,
      col: number,
    ): void => {
      for (let r = 0; r < rows; r++)
        this.f32.set(src.subarray(r * cols, (r + 1) * cols), at / F32 + r * stride + col);
    };
    w.layers.forEach((lw, i) => {
      const l = this.layers[i] as LayerPlan;
      put(l.attnNorm, lw.attnNorm);
      putColumns(l.qkv, lw.q, H, q, this.qkvN, 0);
      putColumns(l.qkv, lw.k, H, kv, this.qkvN, q);
      putColumns(l.qkv, lw.v, H, kv, this.qkvN, q + kv);
      put(l.o, lw.o);
      put(l.ffnNorm, lw.ffnNorm);
      putColumns(l.gateUp, lw.gate, H, I, 2 * this.interN, 0);
      putColumns(l.gateUp, lw.up, H, I, 2 * this.interN, this.interN);
      put(l.down, lw.down); // rows I … interN-1 stay zero
    });
    put(this.at.embed, w.embed);
    put(this.at.finalNorm, w.finalNorm);
    const V = cfg.vocab_size;
    if (w.head) putColumns(this.at.head, w.head, H, V, this.vocabStride, 0);
    else {
      // Tied classifier: the embedding transposed.
      const base = this.at.head / F32;
      for (let v = 0; v < V; v++)
        for (let h = 0; h < H; h++) this.f32[base + h * this.vocabStride + v] = w.embed[v * H + h] as number;
    }
    const rope = ropeTables(cfg);
    put(this.at.cos, rope.cos);
    put(this.at.sin, rope.sin);
  }

  /**
   * Runs `n` tokens (`tokens[i]` at position `positions[i]` of sequence slot `slots[i]`, at most
   * {@link maxTokens}), writing their keys and values into the cache, and returns logits
   * (`[outputs.length, vocabStride]`, a view valid until the next forward) at the tokens whose
   * indices `outputs` lists. Tokens of one slot must come in position order: each attends to its
   * slot's positions up to its own, earlier ones of the same forward included.
   */
  forward(
    n: number,
    tokens: ArrayLike<number>,
    positions: ArrayLike<number>,
    slots: ArrayLike<number>,
    outputs: ArrayLike<number>,
  ): Float32Array {
    if (n > this.maxTokens)
      throw new RangeError(`a forward takes at most ${this.maxTokens} tokens, got ${n}`);
    const cfg = this.cfg;
    const P = cfg.max_position_embeddings;
    const i32 = this.i32;
    const a = this.at;
    for (let i = 0; i < n; i++) {
      const p = positions[i] as number;
      if (p >= P) throw new RangeError(`position ${p} is beyond the model's context of ${P}`);
      i32[a.tokens / F32 + i] = tokens[i] as number;
      i32[a.pos / F32 + i] = p;
      i32[a.slot / F32 + i] = slots[i] as number;
    }
    const m = outputs.length;
    for (let i = 0; i < m; i++) i32[a.rows / F32 + i] = outputs[i] as number;
    const k = this.kernel;
    const H = cfg.hidden_size;
    const D = cfg.head_dim;
    const NH = cfg.num_attention_heads;
    const KVH = cfg.num_key_value_heads;
    const I = this.interN;
    const eps = cfg.rms_norm_eps;
    const qN = NH * D;
    k.embed(a.tokens, n, a.embed, a.x, H);
    for (const l of this.layers) {
      k.rmsnorm(a.x, l.attnNorm, a.xn, n, H, eps);
      k.matmul(a.xn, H, l.qkv, a.qkv, this.qkvN, n, H, this.qkvN, false);
      k.rope(a.qkv, this.qkvN, 0, NH, D, n, a.pos, a.cos, a.sin);
      k.rope(a.qkv, this.qkvN, qN, KVH, D, n, a.pos, a.cos, a.sin);
      k.storeKv(a.qkv, this.qkvN, qN, qN + KVH * D, n, a.slot, a.pos, l.k, l.v, KVH, P, D);
      k.attention(
        a.qkv,
        this.qkvN,
        n,
        a.slot,
        a.pos,
        l.k,
        l.v,
        NH,
        KVH,
        P,
        D,
        1 / Math.sqrt(D),
        a.att,
        a.scores,
      );
      k.matmul(a.att, qN, l.o, a.x, H, n, qN, H, true);
      k.rmsnorm(a.x, l.ffnNorm, a.xn, n, H, eps);
      k.matmul(a.xn, H, l.gateUp, a.gu, 2 * I, n, H, 2 * I, false);
      k.siluMul(a.gu, n, I, a.act);
      k.matmul(a.act, I, l.down, a.x, H, n, I, H, true);
    }
    k.gatherRows(a.x, a.rows, m, a.xo, H);
    k.rmsnorm(a.xo, a.finalNorm, a.xo, m, H, eps);
    k.matmul(a.xo, H, a.head, a.logits, this.vocabStride, m, H, this.vocabStride, false);
    return this.f32.subarray(a.logits / F32, a.logits / F32 + m * this.vocabStride);
  }

  /** Writes `n` cached positions from `at` of a slot's layer (`[kvHeads, n, headDim]` blocks). */
  fill(layer: number, slot: number, at: number, n: number, key: Float32Array, value: Float32Array): void {
    const { k, v } = this.layerCache(layer);
    writeSlotBlock(k, this.slotLayout, slot, at, n, key);
    writeSlotBlock(v, this.slotLayout, slot, at, n, value);
  }

  /** Copies positions `start … start+n-1` of a slot's layer out as `[kvHeads, n, headDim]` blocks. */
  extract(layer: number, slot: number, start: number, n: number): { key: Float32Array; value: Float32Array } {
    const { k, v } = this.layerCache(layer);
    return {
      key: readSlotBlock(k, this.slotLayout, slot, start, n),
      value: readSlotBlock(v, this.slotLayout, slot, start, n),
    };
  }

  /** A layer's key and value caches as views of the memory. */
  private layerCache(layer: number): { k: Float32Array; v: Float32Array } {
    const l = this.layers[layer] as LayerPlan;
    return {
      k: this.f32.subarray(l.k / F32, l.k / F32 + this.kvFloats),
      v: this.f32.subarray(l.v / F32, l.v / F32 + this.kvFloats),
    };
  }
}
