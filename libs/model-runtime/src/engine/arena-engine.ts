import type { PrefixKvCache } from '../batching/prefix-cache';
import type { SequenceEngine } from '@hotpath/batching';
import { DEFAULT_GQA_MAX_ROWS } from '@hotpath/contracts';
import type { SequenceState, TokenStep } from '../generation/sequence-state';
import type { LlamaConfig } from '../model/model-config';
import type { OrtSession, RuntimeTensor } from '../session/ort-session';
import { ENGINE_IO } from './engine-graph';
import { KvArena } from './kv-arena';

/**
 * The sessions an {@link ArenaEngine} runs: the wide engine graph, and optionally the GQA graph
 * it uses while at most `gqaMaxRows` sequences occupy the arena (see `buildGqaEngineGraph`).
 */
export interface EngineSessions {
  wide: OrtSession;
  gqa?: OrtSession | null;
  /** Occupied slots at or below which the GQA graph runs (default 8; 0 = never). */
  gqaMaxRows?: number;
  /**
   * N > 0: the GQA graph runs at every occupancy, a forward of more than N rows as several of at
   * most N (`execution.gqa_chunk_rows`). 0 (default): the wide graph above `gqaMaxRows`.
   */
  gqaChunkRows?: number;
}

const F32_LOWEST = -3.4028234663852886e38;

/** Where a sequence is in the arena. */
interface Placement {
  slot: number;
  /** Prompt tokens already in the cache. */
  fed: number;
}

/** The arena's state, for logs and metrics (KV-arena usage). */
export interface ArenaEngineStats {
  slotsUsed: number;
  capacity: number;
  arenaBytes: number;
  relayouts: number;
  /** Which graph the next forward runs. */
  graph: 'wide' | 'gqa';
}

/**
 * Continuous-batching engine over the engine graph and an in-place {@link KvArena}: a sequence's
 * KV is written once, where it lives, and never copied again while it runs; sequences join and
 * leave without touching the others' rows (a leaving sequence's slot takes the last one's rows).
 * Rows are ragged (each its own length, no padding to the longest); a prompt longer than the
 * prefill chunk is prefilled over several calls while the running batch keeps decoding.
 */
export class ArenaEngine implements SequenceEngine<SequenceState> {
  readonly arena: KvArena;
  private readonly placed = new Map<SequenceState, Placement>();
  /** Sequence in each occupied slot. */
  private readonly bySlot: (SequenceState | null)[];
  private readonly reused = new WeakMap<SequenceState, number>();
  private readonly cfg: LlamaConfig;
  private readonly selfBiasCache = new Map<number, RuntimeTensor>();
  private readonly wide: OrtSession;
  private readonly gqa: OrtSession | null;
  private readonly gqaMaxRows: number;
  private readonly gqaChunkRows: number;
  private graph: 'wide' | 'gqa';

  constructor(
    sessions: EngineSessions,
    cfg: LlamaConfig,
    slots: number,
    private readonly padId: number,
    private readonly prefixCache: PrefixKvCache | null = null,
  ) {
    this.cfg = cfg;
    this.arena = new KvArena({
      layers: cfg.num_hidden_layers,
      kvHeads: cfg.num_key_value_heads,
      headDim: cfg.head_dim,
      slots,
      maxPositions: cfg.max_position_embeddings,
    });
    this.bySlot = new Array<SequenceState | null>(slots).fill(null);
    this.wide = sessions.wide;
    this.gqaMaxRows = sessions.gqa ? (sessions.gqaMaxRows ?? DEFAULT_GQA_MAX_ROWS) : 0;
    this.gqa = this.gqaMaxRows > 0 ? (sessions.gqa ?? null) : null;
    this.gqaChunkRows = this.gqa ? Math.max(0, sessions.gqaChunkRows ?? 0) : 0;
    this.graph = this.gqa ? 'gqa' : 'wide';
  }

  /** Runs one forward through each graph, so neither pays its lazy initialisation on a request. */
  async warmUp(padId = this.padId): Promise<void> {
    for (const graph of this.gqa ? (['gqa', 'wide'] as const) : (['wide'] as const)) {
      const slot = this.arena.allocate();
      try {
        this.graph = graph;
        await this.forward(slot, 1, [1], () => padId);
      } finally {
        this.arena.release(slot);
      }
    }
    this.chooseGraph();
  }

  get stats(): ArenaEngineStats {
    return {
      slotsUsed: this.arena.used,
      capacity: this.arena.capacity,
      arenaBytes: this.arena.bytes,
      relayouts: this.arena.relayoutCount,
      graph: this.graph,
    };
  }

  promptLength(seq: SequenceState): number {
    const p = this.placed.get(seq);
    if (p) return seq.prompt.length - p.fed;
    return seq.prompt.length - (this.prefixCache?.peek(seq.prompt, seq.prompt.length - 1) ?? 0);
  }

  prefixHitTokens(seq: SequenceState): number {
    return this.reused.get(seq) ?? 0;
  }

  /**
   * Feeds each sequence up to `maxTokens` more prompt tokens. A sequence whose prompt is then
   * complete gets its first token; one still mid-prompt gets `null`.
   */
  async prefill(seqs: readonly SequenceState[], maxTokens = Infinity): Promise<(TokenStep | null)[]> {
    for (const s of seqs) if (!this.placed.has(s)) this.place(s);
    const steps = new Map<SequenceState, TokenStep | null>();
    // Rows of one forward must be adjacent slots; new sequences are, a continuing one is alone.
    for (const run of adjacentRuns(seqs.map((s) => this.placement(s).slot))) {
      const group = run.map((slot) => this.bySlot[slot] as SequenceState);
      const counts = group.map((s) => Math.min(s.prompt.length - this.placement(s).fed, maxTokens));
      const out = await this.forward(
        run[0] as number,
        group.length,
        counts,
        (r, j) => group[r]?.prompt[this.placement(group[r] as SequenceState).fed + j] as number,
      );
      const V = this.cfg.vocab_size;
      group.forEach((s, r) => {
        const p = this.placement(s);
        p.fed += counts[r] as number;
        if (p.fed < s.prompt.length) return steps.set(s, null);
        this.storePrefix(s, p.slot);
        steps.set(s, s.accept(out.subarray(r * V, (r + 1) * V)));
      });
    }
    return seqs.map((s) => steps.get(s) ?? null);
  }

  async decode(seqs: readonly SequenceState[]): Promise<TokenStep[]> {
    // One forward over every occupied slot; a slot still mid-prompt rides along with no write.
    const rows = this.arena.used;
    const active = new Uint8Array(rows);
    for (const s of seqs) active[this.placement(s).slot] = 1;
    const counts = Array.from(active);
    const logits = await this.forward(0, rows, counts, (r) => {
      const s = this.bySlot[r];
      return active[r] && s ? s.lastToken : this.padId;
    });
    const V = this.cfg.vocab_size;
    return seqs.map((s) => {
      const slot = this.placement(s).slot;
      return s.accept(logits.subarray(slot * V, (slot + 1) * V));
    });
  }

  release(seq: SequenceState): void {
    const p = this.placed.get(seq);
    if (!p) return;
    this.placed.delete(seq);
    // The last slot's sequence (if another) moves into the freed slot.
    const moved = this.arena.release(p.slot);
    const mover = moved >= 0 ? (this.bySlot[moved] as SequenceState) : null;
    this.bySlot[p.slot] = mover;
    if (mover) {
      this.placement(mover).slot = p.slot;
      this.bySlot[moved] = null;
    }
    this.chooseGraph();
  }

  /**
   * The GQA graph while at most `gqaMaxRows` sequences run, the wide graph above. Both read the
   * arena as it is, so a switch moves no data.
   */
  private chooseGraph(): void {
    // Chunked GQA forwards stay on the GQA graph whatever the occupancy.
    if (!this.gqa || this.gqaChunkRows > 0) return;
    this.graph = this.arena.used > this.gqaMaxRows ? 'wide' : 'gqa';
  }

  private placement(s: SequenceState): Placement {
    const p = this.placed.get(s);
    if (!p) throw new RangeError('the engine got a sequence it never prefilled');
    return p;
  }

  /** Takes a slot and copies the prompt's cached prefix blocks into it. */
  private place(s: SequenceState): void {
    const slot = this.arena.allocate();
    this.chooseGraph();
    this.bySlot[slot] = s;
    const p: Placement = { slot, fed: 0 };
    this.placed.set(s, p);
    const cache = this.prefixCache;
    if (!cache) return;
    // At least the last prompt token is computed: its logits give the first new token.
    const hit = cache.lookup(s.prompt, s.prompt.length - 1);
    if (hit.tokens === 0) return;
    this.arena.reserve(hit.tokens);
    let at = 0;
    for (const block of hit.blocks) {
      const n = (block.layers[0]?.key.length ?? 0) / (this.cfg.num_key_value_heads * this.cfg.head_dim);
      // The arena serves float32 caches only, so its own cached blocks are float32.
      block.layers.forEach((l, layer) =>
        this.arena.fill(layer, slot, at, n, l.key as Float32Array, l.value as Float32Array),
      );
      at += n;
    }
    this.arena.lengths[slot] = at;
    p.fed = at;
    this.reused.set(s, at);
  }

  private storePrefix(s: SequenceState, slot: number): void {
    const cache = this.prefixCache;
    if (!cache) return;
    const bt = cache.blockTokens;
    cache.insert(s.prompt, (i) => ({
      layers: Array.from({ length: this.cfg.num_hidden_layers }, (_, layer) =>
        this.arena.extract(layer, slot, i * bt, bt),
      ),
    }));
  }

  /**
   * One forward over slots `first … first+rows-1`: row `r` feeds `counts[r]` tokens (`token(r, j)`)
   * at its next positions (0 = a row that only rides along). Writes the new KV rows into the arena
   * and returns `[rows, vocab]` logits at each row's last fed token.
   */
  private async forward(
    first: number,
    rows: number,
    counts: readonly number[],
    token: (row: number, j: number) => number,
  ): Promise<Float32Array> {
    const arena = this.arena;
    const S = Math.max(1, ...counts);
    let longest = 0;
    let cached = false;
    for (let r = 0; r < rows; r++) {
      longest = Math.max(longest, (arena.lengths[first + r] as number) + (counts[r] as number));
      cached ||= (arena.lengths[first + r] as number) > 0;
    }
    const chunk = this.graph === 'gqa' ? this.gqaChunkRows : 0;
    // Forwards of at most `chunk` adjacent rows: on an overhead-bound model a few small GQA
    // forwards cost less per row than one wide forward over them all.
    if (chunk > 0 && rows > chunk) return this.forwardInParts(first, rows, counts, token, chunk);
    // onnxruntime's GroupQueryAttention takes several new tokens on top of a cache for one row at a
    // time only (e.g. prompts resuming after a prefix-cache hit): one forward per row.
    if (this.graph === 'gqa' && S > 1 && rows > 1 && cached)
      return this.forwardInParts(first, rows, counts, token, 1);
    arena.reserve(Math.max(1, longest));
    // Always the full capacity, even when no row has cached tokens: onnxruntime's MatMul over an
    // empty inner dimension left garbage in the graph's output (measured), a masked view does not.
    const M = arena.capacity;
    const P = this.cfg.max_position_embeddings;
    const gqa = this.graph === 'gqa';
    const ids = new BigInt64Array(rows * S).fill(BigInt(this.padId));
    const pos = new BigInt64Array(rows * S);
    const last = new BigInt64Array(rows);
    for (let r = 0; r < rows; r++) {
      const len = arena.lengths[first + r] as number;
      const n = counts[r] as number;
      for (let j = 0; j < S; j++) {
        if (j < n) ids[r * S + j] = BigInt(token(r, j));
        pos[r * S + j] = BigInt(Math.min(len + j, P - 1));
      }
      last[r] = BigInt(r * S + Math.max(0, n - 1));
    }
    const feeds: Record<string, RuntimeTensor> = {
      [ENGINE_IO.inputIds]: { type: 'int64', data: ids, dims: [rows, S] },
      [ENGINE_IO.positionIds]: { type: 'int64', data: pos, dims: [rows, S] },
      [ENGINE_IO.lastIndex]: { type: 'int64', data: last, dims: [rows] },
      ...(gqa ? this.gqaMasks(first, rows, S) : this.wideMasks(first, rows, S, M)),
    };
    for (let l = 0; l < this.cfg.num_hidden_layers; l++) {
      const v = arena.view(l, first, rows);
      feeds[ENGINE_IO.cacheKey(l)] = { type: 'float32', data: v.key, dims: v.dims };
      feeds[ENGINE_IO.cacheValue(l)] = { type: 'float32', data: v.value, dims: v.dims };
    }
    const out = await (gqa ? (this.gqa as OrtSession) : this.wide).run(feeds);
    const kv = out[ENGINE_IO.newKv]?.data as Float32Array;
    const per = rows * this.cfg.num_key_value_heads * S * this.cfg.head_dim;
    for (let l = 0; l < this.cfg.num_hidden_layers; l++)
      arena.write(
        l,
        first,
        S,
        counts,
        kv.subarray(2 * l * per, (2 * l + 1) * per),
        kv.subarray((2 * l + 1) * per, (2 * l + 2) * per),
        gqa ? 'tokens-first' : 'heads-first',
      );
    arena.advance(first, counts);
    return out[ENGINE_IO.logits]?.data as Float32Array;
  }

  /** {@link forward} over `rows` as forwards of at most `size` adjacent rows, logits in row order. */
  private async forwardInParts(
    first: number,
    rows: number,
    counts: readonly number[],
    token: (row: number, j: number) => number,
    size: number,
  ): Promise<Float32Array> {
    const V = this.cfg.vocab_size;
    const logits = new Float32Array(rows * V);
    for (let c = 0; c < rows; c += size) {
      const n = Math.min(size, rows - c);
      logits.set(await this.forward(first + c, n, counts.slice(c, c + n), (r, j) => token(c + r, j)), c * V);
    }
    return logits;
  }

  /**
   * The wide graph's masks: `past_bias` (0 on each row's cached positions, −∞ on the rest of the
   * capacity) and the causal `self_bias` among the S new tokens.
   */
  private wideMasks(first: number, rows: number, S: number, M: number): Record<string, RuntimeTensor> {
    const bias = new Float32Array(rows * M);
    for (let r = 0; r < rows; r++)
      bias.fill(F32_LOWEST, r * M + (this.arena.lengths[first + r] as number), (r + 1) * M);
    return {
      [ENGINE_IO.pastBias]: { type: 'float32', data: bias, dims: [rows, 1, 1, 1, M] },
      [ENGINE_IO.selfBias]: this.selfBias(S),
    };
  }

  /**
   * The GQA graph's row lengths: every row counts S new tokens (a row with fewer is right-padded;
   * causal attention keeps its padding out of its real tokens), so `seqlens_k` = cached + S − 1.
   */
  private gqaMasks(first: number, rows: number, S: number): Record<string, RuntimeTensor> {
    const seqlens = new Int32Array(rows);
    let total = 0;
    for (let r = 0; r < rows; r++) {
      seqlens[r] = (this.arena.lengths[first + r] as number) + S - 1;
      total = Math.max(total, (seqlens[r] as number) + 1);
    }
    return {
      [ENGINE_IO.seqlensK]: { type: 'int32', data: seqlens, dims: [rows] },
      [ENGINE_IO.totalLength]: { type: 'int32', data: Int32Array.of(total), dims: [] },
    };
  }

  /** The causal mask among S new tokens, `[1, 1, 1, S, S]`. */
  private selfBias(S: number): RuntimeTensor {
    let t = this.selfBiasCache.get(S);
    if (!t) {
      const data = new Float32Array(S * S);
      for (let s = 0; s < S; s++) data.fill(F32_LOWEST, s * S + s + 1, (s + 1) * S);
      t = { type: 'float32', data, dims: [1, 1, 1, S, S] };
      if (S <= 64) this.selfBiasCache.set(S, t);
    }
    return t;
  }
}

/** Splits slot numbers (in any order) into runs of consecutive slots, each sorted. */
export function adjacentRuns(slots: readonly number[]): number[][] {
  const sorted = [...slots].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const s of sorted) {
    const run = runs[runs.length - 1];
    if (run && run[run.length - 1] === s - 1) run.push(s);
    else runs.push([s]);
  }
  return runs;
}
