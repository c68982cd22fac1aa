import type { CausalLm } from '../generation/causal-lm';
import type { SequenceState, TokenStep } from '../generation/sequence-state';
import type { SequenceEngine } from './iteration-scheduler';
import { assembleKv, decodeMask, type KvBlock, type KvRowRef } from './kv-block';

/**
 * The ONNX side of continuous batching. Newcomers are prefilled together (left-padded, their own
 * block); at the next decode step whose membership differs from the last one, the batch cache is
 * reassembled from the surviving rows and the newcomers' rows. While membership holds, each step
 * feeds the previous step's `present` tensors straight back as `past`: no copy on our side.
 */
export class OnnxBatchEngine implements SequenceEngine<SequenceState> {
  private rows: SequenceState[] = [];
  private block: KvBlock | null = null;
  private readonly live = new Set<SequenceState>();
  /** Prefilled sequences not yet in `block`. */
  private readonly pending = new Map<SequenceState, KvRowRef>();

  constructor(
    private readonly lm: CausalLm,
    private readonly padId: number,
  ) {}

  promptLength(seq: SequenceState): number {
    return seq.prompt.length;
  }

  async prefill(seqs: readonly SequenceState[]): Promise<TokenStep[]> {
    const B = seqs.length;
    const P = Math.max(...seqs.map((s) => s.prompt.length));
    const ids = new BigInt64Array(B * P).fill(BigInt(this.padId));
    const mask = new BigInt64Array(B * P);
    const pos = new BigInt64Array(B * P);
    seqs.forEach((s, b) => {
      const pad = P - s.prompt.length;
      s.prompt.forEach((id, j) => {
        ids[b * P + pad + j] = BigInt(id);
        mask[b * P + pad + j] = 1n;
        pos[b * P + pad + j] = BigInt(j);
      });
    });
    const out = await this.lm.forward({
      batch: B,
      seq: P,
      inputIds: ids,
      attentionMask: mask,
      positionIds: pos,
      past: null,
    });
    const block: KvBlock = { cache: out.present, lengths: seqs.map((s) => s.prompt.length) };
    const V = this.lm.vocabSize;
    return seqs.map((s, b) => {
      this.pending.set(s, { block, row: b });
      const at = (b * P + P - 1) * V;
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
