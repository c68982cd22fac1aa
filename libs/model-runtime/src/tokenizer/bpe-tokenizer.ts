import { readFileSync } from 'node:fs';
import type { TokenizerJson } from './tokenizer-json';

const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

/** Options of {@link BpeTokenizer.decode}. */
export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, unk) from the text. Default true. */
  skipSpecialTokens?: boolean;
  /** The token before `ids[0]` (for streaming: a BOS there drops the first leading space). */
  previous?: number;
}

/**
 * Encoder/decoder for the BPE `tokenizer.json`s this runtime writes (SentencePiece-style with
 * plain spaces, a `Prepend` normalizer, byte fallback and a BOS template). Merging follows the
 * llama2.c rule exactly: repeatedly merge the adjacent pair whose result has the best priority
 * (the earliest merge producing it), the leftmost pair on a tie.
 */
export class BpeTokenizer {
  private readonly vocab = new Map<string, number>();
  private readonly pieces: string[] = [];
  private readonly byteOf: (number | undefined)[] = [];
  private readonly byteId: number[] = [];
  /** `left\u0000right` → [result id, result priority]. */
  private readonly merges = new Map<string, [number, number]>();
  private readonly special = new Set<number>();
  private readonly prepend: string;
  readonly bosId: number | undefined;
  readonly unkId: number | undefined;

  constructor(json: TokenizerJson) {
    if (json.model?.type !== 'BPE')
      throw new Error(`unsupported tokenizer model type ${String(json.model?.type)}`);
    for (const [piece, id] of Object.entries(json.model.vocab)) {
      this.vocab.set(piece, id);
      this.pieces[id] = piece;
      const m = BYTE_PIECE.exec(piece);
      if (m) {
        const byte = parseInt(m[1] as string, 16);
        this.byteOf[id] = byte;
        this.byteId[byte] = id;
      }
    }
    for (const t of json.added_tokens) {
      this.pieces[t.id] = t.content;
      if (t.special) this.special.add(t.id);
    }
    const firstRank = new Map<number, number>();
    json.model.merges.forEach((pair, rank) => {
      const [l, r] = typeof pair === 'string' ? (pair as string).split(' ') : pair;
      const result = this.vocab.get(`${l}${r}`);
      if (result === undefined) return;
      if (!firstRank.has(result)) firstRank.set(result, rank);
      this.merges.set(`${l}\u0000${r}`, [result, firstRank.get(result) as number]);
    });
    const n = json.normalizer;
    this.prepend = n?.type === 'Prepend' && typeof n.prepend === 'string' ? n.prepend : '';
    const bosName = (json.post_processor as { single?: { SpecialToken?: { id: string } }[] } | null)
      ?.single?.[0]?.SpecialToken?.id;
    this.bosId = bosName === undefined ? undefined : json.added_tokens.find((t) => t.content === bosName)?.id;
    this.unkId = json.model.unk_token === null ? undefined : this.vocab.get(json.model.unk_token);
  }

  /** Reads a `tokenizer.json` file. */
  static fromFile(path: string): BpeTokenizer {
    return new BpeTokenizer(JSON.parse(readFileSync(path, 'utf8')) as TokenizerJson);
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  /** The piece text of an id (`<0xHH>` for byte tokens). */
  piece(id: number): string | undefined {
    return this.pieces[id];
  }

  isSpecial(id: number): boolean {
    return this.special.has(id);
  }

  /** Text → ids: BOS (when `addSpecialTokens`), dummy-prefix space, code points or byte fallback, merges. */
  encode(text: string, addSpecialTokens = true): number[] {
    const out: number[] = addSpecialTokens && this.bosId !== undefined ? [this.bosId] : [];
    if (text.length === 0) return out;
    const ids: number[] = [];
    for (const ch of this.prepend + text) {
      const id = this.vocab.get(ch);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      const bytes = Buffer.from(ch, 'utf8');
      if (bytes.every((b) => this.byteId[b] !== undefined))
        for (const b of bytes) ids.push(this.byteId[b] as number);
      else if (this.unkId !== undefined) ids.push(this.unkId);
    }
    return out.concat(this.mergeAll(ids));
  }

  /**
   * Applies merges until none applies, in the order of the llama2.c rule (best priority, leftmost
   * on a tie), in O(n log n): symbols form a linked list and candidate pairs sit in a min-heap keyed
   * by (priority, position). A pair made stale by a neighbouring merge is skipped when popped. The
   * straightforward rescan after every merge is quadratic: a 32 KB prompt took seconds.
   */
  private mergeAll(ids: number[]): number[] {
    const n = ids.length;
    const sym = Int32Array.from(ids);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new PairHeap();
    const push = (left: number): void => {
      const right = next[left] as number;
      if (left < 0 || right < 0) return;
      const m = this.merges.get(
        `${this.pieces[sym[left] as number]}\u0000${this.pieces[sym[right] as number]}`,
      );
      if (m)
        heap.push({
          priority: m[1],
          left,
          right,
          leftId: sym[left] as number,
          rightId: sym[right] as number,
          result: m[0],
        });
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    for (let c = heap.pop(); c; c = heap.pop()) {
      // Stale: a neighbour merged since this pair was pushed.
      if (next[c.left] !== c.right || sym[c.left] !== c.leftId || sym[c.right] !== c.rightId) continue;
      sym[c.left] = c.result;
      const after = next[c.right] as number;
      next[c.left] = after;
      if (after >= 0) prev[after] = c.left;
      sym[c.right] = -1;
      next[c.right] = -1;
      push(prev[c.left] as number);
      push(c.left);
    }
    const merged: number[] = [];
    for (let i = n > 0 ? 0 : -1; i >= 0; i = next[i] as number) merged.push(sym[i] as number);
    return merged;
  }

  /** Raw bytes of one token, given the token before it (a BOS before drops a leading space). */
  tokenBytes(id: number, previous: number | undefined, skipSpecialTokens = true): Buffer {
    if (skipSpecialTokens && this.special.has(id)) return Buffer.alloc(0);
    const byte = this.byteOf[id];
    if (byte !== undefined) return Buffer.of(byte);
    let piece = this.pieces[id] ?? '';
    if (previous !== undefined && previous === this.bosId && piece.startsWith(this.prepend) && this.prepend) {
      piece = piece.slice(this.prepend.length);
    }
    return Buffer.from(piece, 'utf8');
  }

  /** Ids → text. A leading space right after BOS is dropped, as SentencePiece decoders do. */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const parts: Buffer[] = [];
    let prev = opts.previous;
    for (const id of ids) {
      parts.push(this.tokenBytes(id, prev, opts.skipSpecialTokens ?? true));
      prev = id;
    }
    return Buffer.concat(parts).toString('utf8');
  }
}

/**
 * Turns a token stream into text pieces, holding back incomplete UTF-8 sequences (byte-fallback
 * tokens of one character arrive one by one) so every emitted piece is valid text.
 */
export class TokenTextStream {
  private pending = Buffer.alloc(0);

  constructor(
    private readonly tokenizer: BpeTokenizer,
    private previous: number | undefined,
  ) {}

  /** Text completed by this token (may be empty). */
  push(id: number): string {
    this.pending = Buffer.concat([this.pending, this.tokenizer.tokenBytes(id, this.previous)]);
    this.previous = id;
    let end = this.pending.length;
    // Keep back a trailing, not yet complete UTF-8 sequence (at most 3 bytes).
    for (let back = 1; back <= Math.min(3, this.pending.length); back++) {
      const b = this.pending[this.pending.length - back] as number;
      if ((b & 0xc0) === 0x80) continue;
      if (b >= 0xc0) {
        const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
        if (need > back) end = this.pending.length - back;
      }
      break;
    }
    const text = this.pending.subarray(0, end).toString('utf8');
    this.pending = this.pending.subarray(end);
    return text;
  }

  /** Whatever is still held back. */
  flush(): string {
    const text = this.pending.toString('utf8');
    this.pending = Buffer.alloc(0);
    return text;
  }
}

/** A merge candidate: the pair starting at symbol `left`, as it was when pushed. */
interface PairCandidate {
  priority: number;
  left: number;
  right: number;
  leftId: number;
  rightId: number;
  result: number;
}

/** Binary min-heap of merge candidates by priority, then position (leftmost first). */
class PairHeap {
  private readonly items: PairCandidate[] = [];

  push(c: PairCandidate): void {
    const a = this.items;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i] as PairCandidate, a[p] as PairCandidate)) break;
      [a[i], a[p]] = [a[p] as PairCandidate, a[i] as PairCandidate];
      i = p;
    }
  }

  pop(): PairCandidate | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l] as PairCandidate, a[m] as PairCandidate)) m = l;
        if (r < a.length && before(a[r] as PairCandidate, a[m] as PairCandidate)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as PairCandidate, a[i] as PairCandidate];
        i = m;
      }
    }
    return top;
  }
}

function before(x: PairCandidate, y: PairCandidate): boolean {
  return x.priority !== y.priority ? x.priority < y.priority : x.left < y.left;
}
