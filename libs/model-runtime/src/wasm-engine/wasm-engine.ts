import type { SequenceEngine } from '@hotpath/batching';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import type { PrefixKvCache } from '../batching/prefix-cache';
import type { KvUsage } from '../engine/arena-engine';
import type { SequenceState, TokenStep } from '../generation/sequence-state';
import { fillFromPrefix, storePromptBlocks } from '../engine/slot-prefix';
import type { WasmLlama } from './wasm-llama';

/** Where a sequence is: its slot and how many of its positions are cached. */
interface Placement {
  slot: number;
  cached: number;
}

/**
 * Continuous-batching engine on the WASM kernels ({@link WasmLlama}): one fixed KV slot per running
 * sequence, written in place; every call is one forward over a flat batch of tokens at their own
 * positions, so rows are ragged without padding and prompts of any lengths prefill together.
 * Prefix-cache blocks are copied into a new sequence's slot and its prompt's whole blocks stored
 * back once it is prefilled, as on the arena engine.
 */
export class WasmEngine implements SequenceEngine<SequenceState> {
  private readonly placed = new Map<SequenceState, Placement>();
  private readonly free: number[];
  private readonly reused = new WeakMap<SequenceState, number>();
  // Per-forward inputs, reused across calls.
  private readonly tokens: Int32Array;
  private readonly positions: Int32Array;
  private readonly slotOf: Int32Array;

  constructor(
    private readonly model: WasmLlama,
    private readonly prefixCache: PrefixKvCache | null = null,
  ) {
    // Lowest slots first, so a lightly loaded engine touches the fewest pages.
    this.free = Array.from({ length: model.slots }, (_, i) => model.slots - 1 - i);
    this.tokens = new Int32Array(model.maxTokens);
    this.positions = new Int32Array(model.maxTokens);
    this.slotOf = new Int32Array(model.maxTokens);
  }

  get slots(): number {
    return this.model.slots;
  }

  /** Slots hold the whole context, allocated once: the bytes are fixed and never re-laid out. */
  get stats(): KvUsage {
    return {
      slotsUsed: this.placed.size,
      capacity: this.model.cfg.max_position_embeddings,
      arenaBytes: this.model.kvBytes,
      relayouts: 0,
    };
  }

  promptLength(seq: SequenceState): number {
    const p = this.placed.get(seq);
    if (p) return seq.prompt.length - p.cached;
    return seq.prompt.length - (this.prefixCache?.peek(seq.prompt, seq.prompt.length - 1) ?? 0);
  }

  prefixHitTokens(seq: SequenceState): number {
    return this.reused.get(seq) ?? 0;
  }

  /**
   * Feeds each sequence up to `maxTokens` more prompt tokens, all in one flat batch (several
   * forwards when they exceed the model's tokens per forward). A sequence whose prompt is then
   * complete gets its first token; one still mid-prompt gets `null`.
   */
  async prefill(seqs: readonly SequenceState[], maxTokens = Infinity): Promise<(TokenStep | null)[]> {
    for (const s of seqs) if (!this.placed.has(s)) this.place(s);
    const steps: (TokenStep | null)[] = seqs.map(() => null);
    const V = this.model.cfg.vocab_size;
    const stride = this.model.vocabStride;
    let n = 0;
    // Indices into the current forward of the prompts' last tokens, and whose they are.
    let outputs: number[] = [];
    let owners: number[] = [];
    const flush = (): void => {
      if (n === 0) return;
      const logits = this.model.forward(n, this.tokens, this.positions, this.slotOf, outputs);
      owners.forEach((si, o) => {
        const s = seqs[si] as SequenceState;
        this.storePrefix(s);
        steps[si] = s.accept(logits.subarray(o * stride, o * stride + V));
      });
      n = 0;
      outputs = [];
      owners = [];
    };
    seqs.forEach((s, si) => {
      const p = this.placement(s);
      const count = Math.min(s.prompt.length - p.cached, maxTokens);
      for (let j = 0; j < count; j++) {
        if (n === this.model.maxTokens) flush();
        this.tokens[n] = s.prompt[p.cached] as number;
        this.positions[n] = p.cached++;
        this.slotOf[n] = p.slot;
        if (p.cached === s.prompt.length) {
          outputs.push(n);
          owners.push(si);
        }
        n++;
      }
    });
    flush();
    return steps;
  }

  /** One decode step over `seqs`: each feeds its last token at its next position. */
  async decode(seqs: readonly SequenceState[]): Promise<TokenStep[]> {
    const n = seqs.length;
    seqs.forEach((s, i) => {
      const p = this.placement(s);
      this.tokens[i] = s.lastToken;
      this.positions[i] = p.cached++;
      this.slotOf[i] = p.slot;
    });
    const logits = this.model.forward(n, this.tokens, this.positions, this.slotOf, identity(n));
    const V = this.model.cfg.vocab_size;
    const stride = this.model.vocabStride;
    return seqs.map((s, i) => s.accept(logits.subarray(i * stride, i * stride + V)));
  }

  release(seq: SequenceState): void {
    const p = this.placed.get(seq);
    if (!p) return;
    this.placed.delete(seq);
    this.free.push(p.slot);
  }

  private placement(s: SequenceState): Placement {
    const p = this.placed.get(s);
    if (!p) throw new RangeError('the engine got a sequence it never prefilled');
    return p;
  }

  /** Takes a slot and copies the prompt's cached prefix blocks into it. */
  private place(s: SequenceState): void {
    const slot = this.free.pop();
    if (slot === undefined)
      throw new HotpathError(
        ErrorCode.Capacity,
        `KV cache full: all ${this.model.slots} sequence slots are in use`,
      );
    const p: Placement = { slot, cached: 0 };
    this.placed.set(s, p);
    const cache = this.prefixCache;
    if (!cache) return;
    // At least the last prompt token is computed: its logits give the first new token.
    const hit = cache.lookup(s.prompt, s.prompt.length - 1);
    if (hit.tokens === 0) return;
    const cfg = this.model.cfg;
    p.cached = fillFromPrefix(hit, cfg.num_key_value_heads * cfg.head_dim, (layer, at, n, k, v) =>
      this.model.fill(layer, slot, at, n, k, v),
    );
    this.reused.set(s, p.cached);
  }

  private storePrefix(s: SequenceState): void {
    const cache = this.prefixCache;
    if (!cache) return;
    const { slot } = this.placement(s);
    storePromptBlocks(cache, s.prompt, this.model.cfg.num_hidden_layers, (layer, start, n) =>
      this.model.extract(layer, slot, start, n),
    );
  }
}

const identities: Int32Array[] = [];
/** 0 … n-1, cached per n. */
function identity(n: number): Int32Array {
  let ids = identities[n];
  if (!ids) {
    ids = Int32Array.from({ length: n }, (_, i) => i);
    identities[n] = ids;
  }
  return ids;
}
