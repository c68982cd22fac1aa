import { ErrorCode, HotpathError } from '@hotpath/contracts';

/** Shape of a {@link KvArena}. */
export interface KvArenaShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Sequences the arena holds at once (the replica's running-batch bound). */
  slots: number;
  /** Longest sequence (the model's context). */
  maxPositions: number;
  /** Capacity grows and shrinks in steps of this many positions. */
  chunk?: number;
}

/** Layout of the new rows a forward returns: `[rows, kvHeads, S, D]` or `[rows, S, kvHeads, D]`. */
export type NewRowsLayout = 'heads-first' | 'tokens-first';

/** One layer's cache rows as the engine graph reads them. */
export interface KvView {
  key: Float32Array;
  value: Float32Array;
  /** Keys and values: `[rows, kvHeads, capacity, headDim]`. */
  dims: [number, number, number, number];
}

const DEFAULT_CHUNK = 32;

/**
 * The KV cache of one replica, written in place. Each running sequence owns one slot; per layer,
 * keys and values are `[slot, kvHead, position, dim]`, as both engine graphs read them. Occupied
 * slots are always `0 … used-1`: a sequence that leaves is replaced by the last one (one sequence's
 * valid rows are copied, nothing else moves), so the rows of a decode step are one contiguous,
 * zero-copy view of every layer.
 *
 * `capacity` (positions per slot) follows the longest sequence in steps of `chunk`, so attention
 * reads `rows × capacity`, not `rows × context`; changing it re-lays out the valid rows only.
 */
export class KvArena {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly slots: number;
  readonly maxPositions: number;
  readonly chunk: number;
  /** Cached positions of each slot. */
  readonly lengths: Int32Array;
  private keys: Float32Array[] = [];
  private values: Float32Array[] = [];
  private cap = 0;
  private usedSlots = 0;
  private relayouts = 0;

  constructor(shape: KvArenaShape) {
    const { layers, kvHeads, headDim, slots, maxPositions } = shape;
    for (const [k, v] of Object.entries({ layers, kvHeads, headDim, slots, maxPositions }))
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`KvArena ${k} must be a positive integer`);
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.slots = slots;
    this.maxPositions = maxPositions;
    this.chunk = Math.min(shape.chunk ?? DEFAULT_CHUNK, maxPositions);
    this.lengths = new Int32Array(slots);
    this.relayout(this.chunk);
    this.relayouts = 0;
  }

  /** Positions per slot in the current layout. */
  get capacity(): number {
    return this.cap;
  }

  /** Occupied slots (`0 … used-1`). */
  get used(): number {
    return this.usedSlots;
  }

  /** Times the arena was re-laid out (capacity changes), for tests and metrics. */
  get relayoutCount(): number {
    return this.relayouts;
  }

  /** Bytes of cache the current layout spans (what attention reads at most per step). */
  get bytes(): number {
    return 2 * this.layers * this.slots * this.kvHeads * this.cap * this.headDim * 4;
  }

  /** Takes the next free slot (empty). `capacity` error when every slot is taken. */
  allocate(): number {
    if (this.usedSlots >= this.slots)
      throw new HotpathError(
        ErrorCode.Capacity,
        `KV arena full: all ${this.slots} sequence slots are in use`,
      );
    const slot = this.usedSlots++;
    this.lengths[slot] = 0;
    return slot;
  }

  /**
   * Frees `slot`. The last occupied slot moves into it (when it is not `slot` itself); returns the
   * moved slot's old index, or -1 when nothing moved.
   */
  release(slot: number): number {
    this.checkSlot(slot);
    const last = --this.usedSlots;
    let moved = -1;
    if (slot !== last) {
      this.copyRows(last, this, slot);
      moved = last;
    }
    this.lengths[last] = 0;
    this.shrinkToFit();
    return moved;
  }

  /** Makes room for `positions` in every slot (grows capacity in whole chunks). */
  reserve(positions: number): void {
    if (positions > this.maxPositions)
      throw new HotpathError(
        ErrorCode.Capacity,
        `KV arena: ${positions} positions exceed the model's context of ${this.maxPositions}`,
      );
    if (positions > this.cap) this.relayout(this.widthFor(positions));
  }

  /** One layer's rows `first … first+rows-1`, with `capacity` positions each. */
  view(layer: number, first: number, rows: number): KvView {
    const H = this.kvHeads;
    const D = this.headDim;
    const M = this.cap;
    const per = H * M * D;
    const key = (this.keys[layer] as Float32Array).subarray(first * per, (first + rows) * per);
    const value = (this.values[layer] as Float32Array).subarray(first * per, (first + rows) * per);
    return { key, value, dims: [rows, H, M, D] };
  }

  /**
   * Writes new rows from an engine output, `[rows, kvHeads, S, headDim]` or (`tokens-first`)
   * `[rows, S, kvHeads, headDim]` (row `r` ↔ slot `first + r`): row `r`'s first `counts[r]` tokens
   * go to its slot's next positions. Lengths are not advanced here (see {@link advance}) because
   * every layer writes at the same positions.
   */
  write(
    layer: number,
    first: number,
    S: number,
    counts: ArrayLike<number>,
    newKey: Float32Array,
    newValue: Float32Array,
    rowsLayout: NewRowsLayout = 'heads-first',
  ): void {
    const H = this.kvHeads;
    const D = this.headDim;
    const M = this.cap;
    const key = this.keys[layer] as Float32Array;
    const value = this.values[layer] as Float32Array;
    // Offset of token s of head h of row r in the forward's output, and the step between tokens.
    const tokensFirst = rowsLayout === 'tokens-first';
    const step = tokensFirst ? H * D : D;
    for (let r = 0; r < counts.length; r++) {
      const n = counts[r] as number;
      if (n === 0) continue;
      const slot = first + r;
      const at = this.lengths[slot] as number;
      if (at + n > M) throw new RangeError(`KV arena slot ${slot}: ${at + n} positions exceed capacity ${M}`);
      for (let h = 0; h < H; h++) {
        const src = tokensFirst ? (r * S * H + h) * D : (r * H + h) * S * D;
        const dst = ((slot * H + h) * M + at) * D;
        if (tokensFirst) {
          for (let s = 0; s < n; s++) {
            key.set(newKey.subarray(src + s * step, src + s * step + D), dst + s * D);
            value.set(newValue.subarray(src + s * step, src + s * step + D), dst + s * D);
          }
        } else {
          key.set(newKey.subarray(src, src + n * D), dst);
          value.set(newValue.subarray(src, src + n * D), dst);
        }
      }
    }
  }

  /** Advances slot lengths after a forward's rows were written to every layer. */
  advance(first: number, counts: ArrayLike<number>): void {
    for (let r = 0; r < counts.length; r++)
      this.lengths[first + r] = (this.lengths[first + r] as number) + (counts[r] as number);
  }

  /** Copies `[kvHeads, n, headDim]` key/value blocks into a slot at `at` (a prefix-cache hit). */
  fill(layer: number, slot: number, at: number, n: number, key: Float32Array, value: Float32Array): void {
    const shape = { kvHeads: this.kvHeads, positions: this.cap, headDim: this.headDim };
    writeSlotBlock(this.keys[layer] as Float32Array, shape, slot, at, n, key);
    writeSlotBlock(this.values[layer] as Float32Array, shape, slot, at, n, value);
  }

  /** Copies positions `start … start+n-1` of a slot out as `[kvHeads, n, headDim]` blocks. */
  extract(layer: number, slot: number, start: number, n: number): { key: Float32Array; value: Float32Array } {
    const shape = { kvHeads: this.kvHeads, positions: this.cap, headDim: this.headDim };
    return {
      key: readSlotBlock(this.keys[layer] as Float32Array, shape, slot, start, n),
      value: readSlotBlock(this.values[layer] as Float32Array, shape, slot, start, n),
    };
  }

  /**
   * Copies `slot`'s cached positions into `destSlot` of `dest` (an arena of the same layers, heads
   * and head size), growing `dest` when needed, and sets its length. `slot` itself is unchanged.
   */
  copySlotTo(slot: number, dest: KvArena, destSlot: number): void {
    this.checkSlot(slot);
    dest.checkSlot(destSlot);
    if (dest.layers !== this.layers || dest.kvHeads !== this.kvHeads || dest.headDim !== this.headDim)
      throw new RangeError('KV arena: copy between arenas of different shapes');
    dest.reserve(Math.max(1, this.lengths[slot] as number));
    this.copyRows(slot, dest, destSlot);
  }

  /** Shrinks capacity when the longest remaining sequence needs far less. */
  private shrinkToFit(): void {
    let longest = 0;
    for (let s = 0; s < this.usedSlots; s++) longest = Math.max(longest, this.lengths[s] as number);
    const want = this.widthFor(Math.max(1, longest));
    // Hysteresis: shrink only by two chunks or more, so a sequence near a boundary does not thrash.
    if (want + this.chunk < this.cap) this.relayout(want);
  }

  /** The capacity that holds `n` positions: whole chunks, at most the model's context. */
  widthFor(n: number): number {
    return Math.min(this.maxPositions, Math.ceil(n / this.chunk) * this.chunk);
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.usedSlots)
      throw new RangeError(`KV arena: slot ${slot} is not in use`);
  }

  /**
   * Copies slot `from`'s cached positions to slot `to` of `dest` (this arena, or another whose
   * capacity holds them) and sets its length. Within one buffer `copyWithin` moves them without the
   * temporary copy `set` makes of a source that shares the target's buffer.
   */
  private copyRows(from: number, dest: KvArena, to: number): void {
    const H = this.kvHeads;
    const D = this.headDim;
    const n = this.lengths[from] as number;
    for (let l = 0; l < this.layers; l++) {
      const pairs = [
        [this.keys[l], dest.keys[l]],
        [this.values[l], dest.values[l]],
      ] as [Float32Array, Float32Array][];
      for (let h = 0; h < H; h++) {
        const src = (from * H + h) * this.cap * D;
        const dst = (to * H + h) * dest.cap * D;
        for (const [a, b] of pairs)
          if (a === b) a.copyWithin(dst, src, src + n * D);
          else b.set(a.subarray(src, src + n * D), dst);
      }
    }
    dest.lengths[to] = n;
  }

  private relayout(cap: number): void {
    const H = this.kvHeads;
    const D = this.headDim;
    const old = this.cap;
    if (this.keys.length === 0) {
      // Sized for the whole context once: pages are mapped lazily, so only positions ever used take
      // memory, and a capacity change moves rows within the buffer instead of allocating (and
      // zero-filling) a new one per layer.
      const size = this.slots * H * this.maxPositions * D;
      for (let l = 0; l < this.layers; l++) {
        this.keys.push(new Float32Array(size));
        this.values.push(new Float32Array(size));
      }
    } else {
      // Rows keep their order; with a larger stride every row moves up (so go from the last row
      // down), with a smaller one every row moves down (go from the first row up): no row is
      // overwritten before it has moved.
      const rows = this.usedSlots * H;
      const order = cap > old ? (i: number): number => rows - 1 - i : (i: number): number => i;
      for (let l = 0; l < this.layers; l++) {
        const key = this.keys[l] as Float32Array;
        const value = this.values[l] as Float32Array;
        for (let i = 0; i < rows; i++) {
          const row = order(i);
          const n = Math.min(this.lengths[Math.floor(row / H)] as number, cap);
          key.copyWithin(row * cap * D, row * old * D, row * old * D + n * D);
          value.copyWithin(row * cap * D, row * old * D, row * old * D + n * D);
        }
      }
    }
    this.cap = cap;
    this.relayouts++;
  }
}

/** The layout of one layer's keys or values: `[slots, kvHeads, positions, headDim]`. */
export interface SlotLayout {
  kvHeads: number;
  positions: number;
  headDim: number;
}

/** Writes a `[kvHeads, n, headDim]` block into positions `at … at+n-1` of a slot of `cache`. */
export function writeSlotBlock(
  cache: Float32Array,
  l: SlotLayout,
  slot: number,
  at: number,
  n: number,
  block: Float32Array,
): void {
  const D = l.headDim;
  for (let h = 0; h < l.kvHeads; h++)
    cache.set(block.subarray(h * n * D, (h + 1) * n * D), ((slot * l.kvHeads + h) * l.positions + at) * D);
}

/** Positions `start … start+n-1` of a slot of `cache`, copied out as a `[kvHeads, n, headDim]` block. */
export function readSlotBlock(
  cache: Float32Array,
  l: SlotLayout,
  slot: number,
  start: number,
  n: number,
): Float32Array {
  const D = l.headDim;
  const block = new Float32Array(l.kvHeads * n * D);
  for (let h = 0; h < l.kvHeads; h++) {
    const from = ((slot * l.kvHeads + h) * l.positions + start) * D;
    block.set(cache.subarray(from, from + n * D), h * n * D);
  }
  return block;
}
