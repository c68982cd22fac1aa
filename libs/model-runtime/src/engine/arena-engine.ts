import type { PrefixKvCache } from '../batching/prefix-cache';
import type { SequenceEngine } from '@hotpath/batching';
import { DEFAULT_GQA_MAX_ROWS } from '@hotpath/contracts';
import type { SequenceState, TokenStep } from '../generation/sequence-state';
import type { LlamaConfig } from '../model/model-config';
import type { OrtSession, RuntimeTensor } from '../session/ort-session';
import { ENGINE_IO, ENGINE_LANE_INPUTS } from './engine-graph';
import { KvArena } from './kv-arena';
import { fillFromPrefix, storePromptBlocks } from './slot-prefix';

/**
 * The sessions an {@link ArenaEngine} runs: the wide engine graph, and optionally the GQA graph
 * it uses while at most `gqaMaxRows` sequences occupy the arena (see `buildGqaEngineGraph`) and for
 * every prefill. With a GQA graph, `wide` may be the decode-only variant (no `self_bias` input).
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

/** Decode steps over which moving sequences between lanes must pay for the copy (see `rebalance`). */
const PAYBACK_STEPS = 8;

/** The wide graph's two lanes (see `buildEngineGraph`): short sequences, then long ones. */
type LaneId = 0 | 1;
const SHORT: LaneId = 0;
const LONG: LaneId = 1;

/** Where a sequence is in the arena. */
interface Placement {
  lane: LaneId;
  slot: number;
  /** Prompt tokens already in the cache. */
  fed: number;
}

/** Rows `first … first+rows-1` of one lane, as one forward reads them. */
interface Span {
  lane: LaneId;
  first: number;
  rows: number;
}

/** What a slot engine's KV cache holds, for logs and metrics (the `hotpath_kv_arena_*` gauges). */
export interface KvUsage {
  slotsUsed: number;
  /** Positions per slot (the arena: its widest lane's). */
  capacity: number;
  arenaBytes: number;
  relayouts: number;
}

/** The arena's state, for logs and metrics (KV-arena usage). */
export interface ArenaEngineStats extends KvUsage {
  /** Which graph the next forward runs. */
  graph: 'wide' | 'gqa';
  /** The wide graph's variant: any number of new tokens per row, or decode steps alone. */
  wideGraph: 'general' | 'decode-only';
  /** Sequences and width (positions per slot) of the short and the long lane. */
  lanes: { used: number; capacity: number }[];
  /** Sequences moved between lanes so far. */
  laneMoves: number;
}

/**
 * Continuous-batching engine over the engine graph and in-place {@link KvArena}s: a sequence's
 * KV is written once, where it lives, and is not copied again while it runs (but for one move
 * between lanes, below); sequences join and leave without touching the others' rows (a leaving
 * sequence's slot takes the last one's rows). Rows are ragged (each its own length, no padding to
 * the longest); a prompt longer than the prefill chunk is prefilled over several calls while the
 * running batch keeps decoding.
 *
 * **Lanes.** The wide graph reads each cache tensor at the width of its longest row, so one long
 * sequence would make every row of a decode step read that many positions (measured on the bench
 * workload: mean width 230 for a mean length of 75). The engine therefore keeps two arenas, a short
 * and a long lane, and before each wide decode step splits the sequences between them so that
 * attention reads the fewest positions (see `rebalance`): a sequence that moves costs one copy of
 * its rows. The GQA graph reads only each row's own length, so while it runs every sequence is in
 * the short lane.
 */
export class ArenaEngine implements SequenceEngine<SequenceState> {
  /** Short lane, long lane. */
  private readonly lanes: readonly [KvArena, KvArena];
  private readonly placed = new Map<SequenceState, Placement>();
  /** Sequence in each occupied slot, per lane. */
  private readonly bySlot: readonly [(SequenceState | null)[], (SequenceState | null)[]];
  /** Longest sequence the short lane takes in (positions), as last chosen by {@link rebalance}. */
  private shortWidth = Infinity;
  private moves = 0;
  /** Zeros standing in for a lane's cache when none of its rows has cached tokens. */
  private readonly noCache: Float32Array;
  private readonly reused = new WeakMap<SequenceState, number>();
  private readonly cfg: LlamaConfig;
  private readonly selfBiasCache = new Map<number, RuntimeTensor>();
  private readonly wide: OrtSession;
  private readonly gqa: OrtSession | null;
  private readonly gqaMaxRows: number;
  private readonly gqaChunkRows: number;
  private graph: 'wide' | 'gqa';
  /** The wide session is the decode-only variant: one new token per row, prefill on the GQA graph. */
  private readonly wideDecodeOnly: boolean;

  constructor(
    sessions: EngineSessions,
    cfg: LlamaConfig,
    slots: number,
    private readonly padId: number,
    private readonly prefixCache: PrefixKvCache | null = null,
  ) {
    this.cfg = cfg;
    const lane = (): KvArena =>
      new KvArena({
        layers: cfg.num_hidden_layers,
        kvHeads: cfg.num_key_value_heads,
        headDim: cfg.head_dim,
        slots,
        maxPositions: cfg.max_position_embeddings,
      });
    // Both sized for every slot (their buffers are mapped lazily: only positions used take memory).
    this.lanes = [lane(), lane()];
    this.bySlot = [
      new Array<SequenceState | null>(slots).fill(null),
      new Array<SequenceState | null>(slots).fill(null),
    ];
    this.noCache = new Float32Array(slots * cfg.num_key_value_heads * cfg.head_dim);
    this.wide = sessions.wide;
    this.gqaMaxRows = sessions.gqa ? (sessions.gqaMaxRows ?? DEFAULT_GQA_MAX_ROWS) : 0;
    this.gqa = this.gqaMaxRows > 0 ? (sessions.gqa ?? null) : null;
    this.gqaChunkRows = this.gqa ? Math.max(0, sessions.gqaChunkRows ?? 0) : 0;
    this.graph = this.gqa ? 'gqa' : 'wide';
    this.wideDecodeOnly = !this.wide.inputNames.includes(ENGINE_IO.selfBias);
    if (this.wideDecodeOnly && !this.gqa)
      throw new RangeError('the decode-only wide graph needs the GQA graph for prefill');
  }

  /** Runs one forward through each graph, so neither pays its lazy initialisation on a request. */
  async warmUp(padId = this.padId): Promise<void> {
    const short = this.lanes[SHORT];
    for (const graph of this.gqa ? (['gqa', 'wide'] as const) : (['wide'] as const)) {
      const slot = short.allocate();
      try {
        this.graph = graph;
        await this.forward([{ lane: SHORT, first: slot, rows: 1 }], [1], () => padId);
      } finally {
        short.release(slot);
      }
    }
    this.chooseGraph();
  }

  /** Sequences the engine holds at once. */
  get slots(): number {
    return this.lanes[SHORT].slots;
  }

  get stats(): ArenaEngineStats {
    const [a, b] = this.lanes;
    return {
      slotsUsed: a.used + b.used,
      capacity: Math.max(a.capacity, b.capacity),
      arenaBytes: a.bytes + b.bytes,
      relayouts: a.relayoutCount + b.relayoutCount,
      graph: this.graph,
      wideGraph: this.wideDecodeOnly ? 'decode-only' : 'general',
      lanes: this.lanes.map((l) => ({ used: l.used, capacity: l.capacity })),
      laneMoves: this.moves,
    };
  }

  private get used(): number {
    return this.lanes[SHORT].used + this.lanes[LONG].used;
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
   * complete gets its first token; one still mid-prompt gets `null`. Prompts run on the GQA graph
   * whenever the engine has one, whichever graph decodes (one attention node per layer instead of
   * the wide graph's dozen operators per lane: measured 2–37 % less per prefill), except several
   * rows with cached tokens: the GQA kernel takes those one row per forward, and a general wide
   * graph runs them in one.
   */
  async prefill(seqs: readonly SequenceState[], maxTokens = Infinity): Promise<(TokenStep | null)[]> {
    for (const s of seqs) if (!this.placed.has(s)) this.place(s);
    const steps = new Map<SequenceState, TokenStep | null>();
    // Rows of one forward must be adjacent slots of one lane; new sequences are, a continuing one
    // is alone.
    const runs = ([SHORT, LONG] as const).flatMap((lane) =>
      adjacentRuns(
        seqs
          .map((s) => this.placement(s))
          .filter((p) => p.lane === lane)
          .map((p) => p.slot),
      ).map((run) => ({ lane, run })),
    );
    for (const { lane, run } of runs) {
      const group = run.map((slot) => this.bySlot[lane][slot] as SequenceState);
      const counts = group.map((s) => Math.min(s.prompt.length - this.placement(s).fed, maxTokens));
      const span = { lane, first: run[0] as number, rows: group.length };
      const onGqa = this.graph === 'gqa' || this.wideDecodeOnly || !this.resumesSeveralRows(span, counts);
      const graph = this.gqa && onGqa ? 'gqa' : 'wide';
      const out = await this.forward(
        [span],
        counts,
        (r, j) => group[r]?.prompt[this.placement(group[r] as SequenceState).fed + j] as number,
        graph,
      );
      const V = this.cfg.vocab_size;
      group.forEach((s, r) => {
        const p = this.placement(s);
        p.fed += counts[r] as number;
        if (p.fed < s.prompt.length) return steps.set(s, null);
        this.storePrefix(s, p);
        steps.set(s, s.accept(out.subarray(r * V, (r + 1) * V)));
      });
    }
    return seqs.map((s) => steps.get(s) ?? null);
  }

  async decode(seqs: readonly SequenceState[]): Promise<TokenStep[]> {
    const active = new Set(seqs);
    if (this.graph === 'wide') this.rebalance(active);
    // One forward over every occupied slot (short lane, then long); a slot still mid-prompt rides
    // along with no write.
    const [a, b] = this.lanes;
    const row = (p: Placement): number => (p.lane === SHORT ? p.slot : a.used + p.slot);
    const bySlot = [...this.bySlot[SHORT].slice(0, a.used), ...this.bySlot[LONG].slice(0, b.used)];
    const counts = bySlot.map((s) => (s && active.has(s) ? 1 : 0));
    const spans: Span[] = [{ lane: SHORT, first: 0, rows: a.used }];
    if (b.used > 0) spans.push({ lane: LONG, first: 0, rows: b.used });
    const logits = await this.forward(spans, counts, (r) => {
      const s = bySlot[r];
      return counts[r] && s ? s.lastToken : this.padId;
    });
    const V = this.cfg.vocab_size;
    return seqs.map((s) => {
      const r = row(this.placement(s));
      return s.accept(logits.subarray(r * V, (r + 1) * V));
    });
  }

  release(seq: SequenceState): void {
    const p = this.placed.get(seq);
    if (!p) return;
    this.placed.delete(seq);
    this.vacate(p.lane, p.slot);
    this.chooseGraph();
  }

  /** Frees a lane's slot; the lane's last sequence (if another) moves into it. */
  private vacate(lane: LaneId, slot: number): void {
    const bySlot = this.bySlot[lane];
    const moved = this.lanes[lane].release(slot);
    const mover = moved >= 0 ? (bySlot[moved] as SequenceState) : null;
    bySlot[slot] = mover;
    if (mover) {
      this.placement(mover).slot = slot;
      bySlot[moved] = null;
    }
  }

  /** Moves a sequence's cached rows to the other lane. */
  private move(seq: SequenceState, to: LaneId): void {
    const p = this.placement(seq);
    const dest = this.lanes[to];
    const slot = dest.allocate();
    this.lanes[p.lane].copySlotTo(p.slot, dest, slot);
    this.bySlot[to][slot] = seq;
    this.vacate(p.lane, p.slot);
    p.lane = to;
    p.slot = slot;
    this.moves++;
  }

  /**
   * Before a wide decode step: the split of the running sequences into a short and a long lane that
   * minimises what attention reads (each lane's rows × its width, the width its longest row's
   * positions rounded up to the arena's chunk), applied when the positions it saves over the
   * next {@link PAYBACK_STEPS} steps outweigh the rows it copies (a move reads and writes each
   * cached position of every layer once, about what attention reads of it in two steps). So
   * sequences move when they grow out of the short lane or when a long one leaves, not every
   * step.
   */
  private rebalance(active: ReadonlySet<SequenceState>): void {
    const rows: { s: SequenceState; lane: LaneId; need: number; len: number }[] = [];
    for (const lane of [SHORT, LONG] as const) {
      const arena = this.lanes[lane];
      for (let i = 0; i < arena.used; i++) {
        const s = this.bySlot[lane][i] as SequenceState;
        const len = arena.lengths[i] as number;
        rows.push({ s, lane, len, need: len + (active.has(s) ? 1 : 0) });
      }
    }
    if (rows.length === 0) return;
    const chunk = this.lanes[SHORT].chunk;
    const width = (n: number): number => this.lanes[SHORT].widthFor(n);
    let now = 0;
    for (const lane of [SHORT, LONG] as const) {
      const mine = rows.filter((r) => r.lane === lane);
      now += mine.length * width(Math.max(0, ...mine.map((r) => r.need)));
    }
    rows.sort((x, y) => x.need - y.need);
    const n = rows.length;
    const longest = width((rows[n - 1] as (typeof rows)[number]).need);
    // k shortest rows in the short lane (rows of equal need stay together); prefer the widest
    // short lane among equal costs.
    let best = { cost: Infinity, keep: n };
    for (let k = n; k >= 0; k--) {
      if (k > 0 && k < n && rows[k - 1]?.need === rows[k]?.need) continue;
      const cost = k * width(rows[k - 1]?.need ?? 0) + (n - k) * longest;
      if (cost < best.cost) best = { cost, keep: k };
    }
    const cut = best.keep > 0 ? width((rows[best.keep - 1] as (typeof rows)[number]).need) : 0;
    const target = (r: (typeof rows)[number]): LaneId => (r.need <= cut ? SHORT : LONG);
    const moving = rows.filter((r) => target(r) !== r.lane);
    if (moving.length === 0) {
      this.shortWidth = Math.max(cut, chunk);
      return;
    }
    const copied = moving.reduce((sum, r) => sum + r.len, 0);
    if ((now - best.cost) * PAYBACK_STEPS <= 2 * copied) return;
    this.shortWidth = Math.max(cut, chunk);
    for (const r of moving) this.move(r.s, target(r));
  }

  /**
   * The GQA graph while at most `gqaMaxRows` sequences run, the wide graph above. Both read the
   * arena as it is, but the GQA graph reads one lane: switching to it brings the long lane's
   * (few) sequences back to the short lane.
   */
  private chooseGraph(): void {
    // Chunked GQA forwards stay on the GQA graph whatever the occupancy.
    if (!this.gqa || this.gqaChunkRows > 0) return;
    this.graph = this.used > this.gqaMaxRows ? 'wide' : 'gqa';
    if (this.graph === 'gqa') {
      this.shortWidth = Infinity;
      const long = this.bySlot[LONG].slice(0, this.lanes[LONG].used) as SequenceState[];
      for (const s of long) this.move(s, SHORT);
    }
  }

  private placement(s: SequenceState): Placement {
    const p = this.placed.get(s);
    if (!p) throw new RangeError('the engine got a sequence it never prefilled');
    return p;
  }

  /**
   * Takes a slot and copies the prompt's cached prefix blocks into it. While the wide graph runs, a
   * prompt longer than the short lane's width goes straight to the long lane.
   */
  private place(s: SequenceState): void {
    const wideNext = this.gqa === null || (this.gqaChunkRows === 0 && this.used + 1 > this.gqaMaxRows);
    // Never narrower than one chunk, so short prompts keep a lane of their own.
    const width = Math.max(this.shortWidth, this.lanes[SHORT].chunk);
    const lane = wideNext && s.prompt.length > width ? LONG : SHORT;
    const arena = this.lanes[lane];
    const slot = arena.allocate();
    this.bySlot[lane][slot] = s;
    const p: Placement = { lane, slot, fed: 0 };
    this.placed.set(s, p);
    this.chooseGraph();
    const cache = this.prefixCache;
    if (!cache) return;
    // At least the last prompt token is computed: its logits give the first new token.
    const hit = cache.lookup(s.prompt, s.prompt.length - 1);
    if (hit.tokens === 0) return;
    arena.reserve(hit.tokens);
    const at = fillFromPrefix(hit, this.cfg.num_key_value_heads * this.cfg.head_dim, (layer, from, n, k, v) =>
      arena.fill(layer, slot, from, n, k, v),
    );
    arena.lengths[slot] = at;
    p.fed = at;
    this.reused.set(s, at);
  }

  private storePrefix(s: SequenceState, p: Placement): void {
    const cache = this.prefixCache;
    if (!cache) return;
    const arena = this.lanes[p.lane];
    storePromptBlocks(cache, s.prompt, this.cfg.num_hidden_layers, (layer, start, n) =>
      arena.extract(layer, p.slot, start, n),
    );
  }

  /**
   * One forward over the rows of `spans` on `graph` (the GQA graph: one span of either lane; the
   * wide graph: at most one per lane, short first): row `r` (counted over the spans in order) feeds
   * `counts[r]` tokens (`token(r, j)`) at its next positions (0 = a row that only rides along).
   * Writes the new KV rows into the arenas and returns `[rows, vocab]` logits at each row's last fed
   * token.
   */
  private async forward(
    spans: readonly Span[],
    counts: readonly number[],
    token: (row: number, j: number) => number,
    graph: 'wide' | 'gqa' = this.graph,
  ): Promise<Float32Array> {
    const rows = spans.reduce((n, sp) => n + sp.rows, 0);
    const S = Math.max(1, ...counts);
    const gqa = graph === 'gqa';
    if (!gqa && S > 1 && this.wideDecodeOnly)
      throw new RangeError('the decode-only wide graph takes one new token per row');
    if (gqa) {
      const span = spans[0] as Span;
      if (spans.length > 1) throw new RangeError('the GQA graph reads one lane per forward');
      const chunk = this.gqaChunkRows;
      // Forwards of at most `chunk` adjacent rows: on an overhead-bound model a few small GQA
      // forwards cost less per row than one wide forward over them all.
      if (chunk > 0 && rows > chunk) return this.forwardInParts(span, counts, token, chunk, graph);
      // onnxruntime's GroupQueryAttention takes several new tokens on top of a cache for one row
      // at a time only (e.g. prompts resuming after a prefix-cache hit): one forward per row.
      if (this.resumesSeveralRows(span, counts)) return this.forwardInParts(span, counts, token, 1, graph);
    }
    const P = this.cfg.max_position_embeddings;
    const ids = new BigInt64Array(rows * S).fill(BigInt(this.padId));
    const pos = new BigInt64Array(rows * S);
    const last = new BigInt64Array(rows);
    let r = 0;
    for (const { lane, first, rows: n } of spans) {
      const arena = this.lanes[lane];
      let longest = 0;
      for (let i = 0; i < n; i++, r++) {
        const len = arena.lengths[first + i] as number;
        const c = counts[r] as number;
        longest = Math.max(longest, len + c);
        for (let j = 0; j < S; j++) {
          if (j < c) ids[r * S + j] = BigInt(token(r, j));
          pos[r * S + j] = BigInt(Math.min(len + j, P - 1));
        }
        last[r] = BigInt(r * S + Math.max(0, c - 1));
      }
      arena.reserve(Math.max(1, longest));
    }
    const feeds: Record<string, RuntimeTensor> = {
      [ENGINE_IO.inputIds]: { type: 'int64', data: ids, dims: [rows, S] },
      [ENGINE_IO.positionIds]: { type: 'int64', data: pos, dims: [rows, S] },
      [ENGINE_IO.lastIndex]: { type: 'int64', data: last, dims: [rows] },
      ...(gqa ? this.gqaFeeds(spans[0] as Span, S) : this.wideFeeds(spans, S)),
    };
    const out = await (gqa ? (this.gqa as OrtSession) : this.wide).run(feeds);
    const kv = out[ENGINE_IO.newKv]?.data as Float32Array;
    const perRow = this.cfg.num_key_value_heads * S * this.cfg.head_dim;
    const per = rows * perRow;
    r = 0;
    for (const { lane, first, rows: n } of spans) {
      const arena = this.lanes[lane];
      const laneCounts = counts.slice(r, r + n);
      for (let l = 0; l < this.cfg.num_hidden_layers; l++) {
        const k = 2 * l * per + r * perRow;
        const v = (2 * l + 1) * per + r * perRow;
        arena.write(
          l,
          first,
          S,
          laneCounts,
          kv.subarray(k, k + n * perRow),
          kv.subarray(v, v + n * perRow),
          gqa ? 'tokens-first' : 'heads-first',
        );
      }
      arena.advance(first, laneCounts);
      r += n;
    }
    return out[ENGINE_IO.logits]?.data as Float32Array;
  }

  /**
   * Several rows, some feeding more than one token, some on top of cached tokens: onnxruntime's
   * GroupQueryAttention takes that one row per forward only.
   */
  private resumesSeveralRows(span: Span, counts: readonly number[]): boolean {
    return span.rows > 1 && Math.max(...counts) > 1 && this.cachedRows(span) > 0;
  }

  /** Rows of a span that have cached tokens. */
  private cachedRows({ lane, first, rows }: Span): number {
    let n = 0;
    for (let i = 0; i < rows; i++) if ((this.lanes[lane].lengths[first + i] as number) > 0) n++;
    return n;
  }

  /** {@link forward} over a span as forwards of at most `size` adjacent rows, logits in row order. */
  private async forwardInParts(
    span: Span,
    counts: readonly number[],
    token: (row: number, j: number) => number,
    size: number,
    graph: 'wide' | 'gqa',
  ): Promise<Float32Array> {
    const V = this.cfg.vocab_size;
    const logits = new Float32Array(span.rows * V);
    for (let c = 0; c < span.rows; c += size) {
      const n = Math.min(size, span.rows - c);
      const part = { lane: span.lane, first: span.first + c, rows: n };
      logits.set(await this.forward([part], counts.slice(c, c + n), (r, j) => token(c + r, j), graph), c * V);
    }
    return logits;
  }

  /**
   * The wide graph's lane inputs: per lane, its rows' cache views and `past_bias` (0 on each row's
   * cached positions, −∞ on the rest of the lane's width), `lane_rows`, and the causal `self_bias`
   * among the S new tokens. A lane with no rows, or none with cached tokens (a prefill), gets a
   * one-position masked stand-in instead of its arena: its width would be read for nothing (an
   * empty inner dimension is not an option: onnxruntime's MatMul left garbage in the output then).
   */
  private wideFeeds(spans: readonly Span[], S: number): Record<string, RuntimeTensor> {
    const KVH = this.cfg.num_key_value_heads;
    const D = this.cfg.head_dim;
    const feeds: Record<string, RuntimeTensor> = this.wideDecodeOnly
      ? {}
      : { [ENGINE_IO.selfBias]: this.selfBias(S) };
    const laneRows = new BigInt64Array(2);
    for (const lane of [SHORT, LONG] as const) {
      const span = spans.find((sp) => sp.lane === lane) ?? { lane, first: 0, rows: 0 };
      const rows = span.rows;
      laneRows[lane] = BigInt(rows);
      const arena = this.lanes[lane];
      const real = this.cachedRows(span) > 0;
      const M = real ? arena.capacity : 1;
      const bias = new Float32Array(rows * M);
      for (let r = 0; r < rows; r++)
        bias.fill(F32_LOWEST, r * M + (real ? (arena.lengths[span.first + r] as number) : 0), (r + 1) * M);
      const names = ENGINE_LANE_INPUTS[lane];
      feeds[names.pastBias] = { type: 'float32', data: bias, dims: [rows, 1, 1, 1, M] };
      const stub = this.noCache.subarray(0, rows * KVH * D);
      // The wide graph declares each cache `[rows, KVH, 1, width, D]` (same bytes as the arena's view).
      const dims = [rows, KVH, 1, real ? arena.capacity : 1, D];
      for (let l = 0; l < this.cfg.num_hidden_layers; l++) {
        const v = real ? arena.view(l, span.first, rows) : { key: stub, value: stub };
        feeds[names.cacheKey(l)] = { type: 'float32', data: v.key, dims };
        feeds[names.cacheValue(l)] = { type: 'float32', data: v.value, dims };
      }
    }
    feeds[ENGINE_IO.laneRows] = { type: 'int64', data: laneRows, dims: [2] };
    return feeds;
  }

  /**
   * The GQA graph's cache views and row lengths: every row counts S new tokens (a row with fewer is
   * right-padded; causal attention keeps its padding out of its real tokens), so `seqlens_k` =
   * cached + S − 1.
   */
  private gqaFeeds({ lane, first, rows }: Span, S: number): Record<string, RuntimeTensor> {
    const arena = this.lanes[lane];
    const feeds: Record<string, RuntimeTensor> = {};
    for (let l = 0; l < this.cfg.num_hidden_layers; l++) {
      const v = arena.view(l, first, rows);
      feeds[ENGINE_IO.cacheKey(l)] = { type: 'float32', data: v.key, dims: v.dims };
      feeds[ENGINE_IO.cacheValue(l)] = { type: 'float32', data: v.value, dims: v.dims };
    }
    const seqlens = new Int32Array(rows);
    let total = 0;
    for (let r = 0; r < rows; r++) {
      seqlens[r] = (arena.lengths[first + r] as number) + S - 1;
      total = Math.max(total, (seqlens[r] as number) + 1);
    }
    feeds[ENGINE_IO.seqlensK] = { type: 'int32', data: seqlens, dims: [rows] };
    feeds[ENGINE_IO.totalLength] = { type: 'int32', data: Int32Array.of(total), dims: [] };
    return feeds;
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
