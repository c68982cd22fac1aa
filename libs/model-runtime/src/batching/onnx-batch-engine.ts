import type { CausalLm } from '../generation/causal-lm';
import type { SequenceState, TokenStep } from '../generation/sequence-state';
import type { SequenceEngine } from '@hotpath/batching';
import { assembleKv, decodeMask, type KvBlock, type KvRowRef } from './kv-block';
import type { PrefixKvCache } from './prefix-cache';
import { prefixPast, sliceBlockKv } from './prefix-kv';

/**
 * The ONNX side of continuous batching. Newcomers are prefilled together (left-padded, their own
 * block); at the next decode step whose membership differs from the last one, the batch cache is
 * reassembled from the surviving rows and the newcomers' rows. While membership holds, each step
 * feeds the previous step's `present` tensors straight back as `past`: no copy on our side.
 *
 * With a {@link PrefixKvCache}, a newcomer whose prompt starts with cached blocks is prefilled from
 * that KV: the group's forward takes the cached prefixes as `past` (left-padded) and feeds only the
 * remaining tokens, at their true positions. Every prefill stores the prompt's whole blocks back.
 */
export class OnnxBatchEngine implements SequenceEngine<SequenceState> {
  private rows: SequenceState[] = [];
  private block: KvBlock | null = null;
  private readonly live = new Set<SequenceState>();
  /** Prefilled sequences not yet in `block`. */
  private readonly pending = new Map<SequenceState, KvRowRef>();

  /** Prompt tokens each sequence took from the prefix cache (kept after release, for its output). */
  private readonly reused = new WeakMap<SequenceState, number>();

  constructor(
    private readonly lm: CausalLm,
    private readonly padId: number,
    private readonly prefixCache: PrefixKvCache | null = null,
  ) {}

  promptLength(seq: SequenceState): number {
    return seq.prompt.length - (this.prefixCache?.peek(seq.prompt, seq.prompt.length - 1) ?? 0);
  }

  /** Leading prompt tokens of `seq` whose KV came from the prefix cache (0 when none). */
  prefixHitTokens(seq: SequenceState): number {
    return this.reused.get(seq) ?? 0;
  }

  async prefill(seqs: readonly SequenceState[]): Promise<TokenStep[]> {
    const B = seqs.length;
    const cache = this.prefixCache;
    // At least the last prompt token is always computed: its logits give the first new token.
    const hits = seqs.map((s) => cache?.lookup(s.prompt, s.prompt.length - 1) ?? { tokens: 0, blocks: [] });
    // One forward feeds S new tokens per row over L past positions; a row's real entries must end
    // up contiguous at the right, so a row takes min(its hit, T − S) cached tokens and
    // recomputes the rest (same forward cost: S is set by the row with the most new tokens).
    const S = Math.max(...seqs.map((s, b) => s.prompt.length - (hits[b]?.tokens ?? 0)));
    const used = seqs.map((s) => Math.max(0, s.prompt.length - S));
    const L = Math.max(...used);
    const T = L + S;
    const ids = new BigInt64Array(B * S).fill(BigInt(this.padId));
    const mask = new BigInt64Array(B * T);
    const pos = new BigInt64Array(B * S);
    seqs.forEach((s, b) => {
      const c = used[b] as number;
      const fed = s.prompt.length - c;
      const pad = S - fed;
      mask.fill(1n, b * T + (L - c), b * T + L);
      for (let j = 0; j < fed; j++) {
        ids[b * S + pad + j] = BigInt(s.prompt[c + j] as number);
        mask[b * T + L + pad + j] = 1n;
        pos[b * S + pad + j] = BigInt(c + j);
      }
      this.reused.set(s, c);
    });
    const out = await this.lm.forward({
      batch: B,
      seq: S,
      inputIds: ids,
      attentionMask: mask,
      positionIds: pos,
      past: L > 0 ? prefixPast(this.lm.config, hits, used, L, this.lm.kvType) : null,
    });
    const block: KvBlock = { cache: out.present, lengths: seqs.map((s) => s.prompt.length) };
    if (cache) {
      seqs.forEach((s, b) =>
        cache.insert(s.prompt, (i) =>
          sliceBlockKv(out.present, b, T - s.prompt.length + i * cache.blockTokens, cache.blockTokens),
        ),
      );
    }
    const V = this.lm.vocabSize;
    return seqs.map((s, b) => {
      this.pending.set(s, { block, row: b });
      const at = (b * S + S - 1) * V;
      return s.accept(out.logits.subarray(at, at + V));
    });
  }

  async decode(seqs: readonly SequenceState[]): Promise<TokenStep[]> {
    const block = this.batchFor(seqs);
    const B = seqs.length;
    const ids = BigInt64Array.from(seqs, (s) => BigInt(s.lastToken));
    const pos = BigInt64Array.from(block.lengths, (n) => BigInt(n));
    const out = await this.lm.forward({
      batch: B,
      seq: 1,
      inputIds: ids,
      attentionMask: decodeMask(block),
      positionIds: pos,
      past: block.cache,
    });
    this.block = { cache: out.present, lengths: block.lengths.map((n) => n + 1) };
    const V = this.lm.vocabSize;
    return seqs.map((s, b) => s.accept(out.logits.subarray(b * V, (b + 1) * V)));
  }

  release(seq: SequenceState): void {
    this.pending.delete(seq);
    this.live.delete(seq);
    if (this.live.size === 0) {
      this.rows = [];
      this.block = null;
    }
  }

  /** The batch cache for exactly `seqs`, reassembled only when membership changed. */
  private batchFor(seqs: readonly SequenceState[]): KvBlock {
    if (this.block && sameRows(seqs, this.rows)) return this.block;
    const current = this.block;
    const refs = seqs.map((s): KvRowRef => {
      const joined = this.pending.get(s);
      if (joined) return joined;
      const row = this.rows.indexOf(s);
      if (row < 0 || !current) throw new RangeError('decode got a sequence that was never prefilled');
      return { block: current, row };
    });
    const block = wholeBlock(refs) ?? assembleKv(refs);
    for (const s of seqs) this.pending.delete(s);
    this.rows = [...seqs];
    this.live.clear();
    for (const s of seqs) this.live.add(s);
    this.block = block;
    return block;
  }
}

/** The rows are exactly one block's rows in order (e.g. a group prefilled alone): reuse it as is. */
function wholeBlock(refs: readonly KvRowRef[]): KvBlock | null {
  const block = refs[0]?.block;
  if (!block || block.lengths.length !== refs.length) return null;
  return refs.every((r, i) => r.block === block && r.row === i) ? block : null;
}

function sameRows(a: readonly SequenceState[], b: readonly SequenceState[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}
