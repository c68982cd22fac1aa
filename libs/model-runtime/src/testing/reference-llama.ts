import type { Llama2cCheckpoint } from '../llama2c/llama2c-reader';
import type { LlamaConfig, LlamaWeights } from '../model/model-config';

/** Shape of a model for {@link ReferenceLlama}. */
export interface ReferenceShape {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocab: number;
  eps: number;
  theta: number;
  /** llama2.c pairs `(2m, 2m+1)` or Hugging Face pairs `(m, m+head/2)`. */
  rope: 'interleaved' | 'rotate_half';
}

/**
 * A plain-loop Llama forward pass with the llama2.c reference program's arithmetic (test oracle only):
 * one token at one position, float32 storage, sequential sums, its own KV cache.
 */
export class ReferenceLlama {
  private readonly keyCache: Float32Array[];
  private readonly valueCache: Float32Array[];
  private readonly head: number;
  private readonly kvDim: number;

  constructor(
    private readonly s: ReferenceShape,
    private readonly w: LlamaWeights,
    private readonly seqLen: number,
  ) {
    this.head = s.dim / s.nHeads;
    this.kvDim = s.nKvHeads * this.head;
    this.keyCache = Array.from({ length: s.nLayers }, () => new Float32Array(seqLen * this.kvDim));
    this.valueCache = Array.from({ length: s.nLayers }, () => new Float32Array(seqLen * this.kvDim));
  }

  /** A fresh oracle for a Hotpath config and its weights (rotate-half RoPE, as the forged graphs). */
  static forConfig(config: LlamaConfig, weights: LlamaWeights, seqLen: number): ReferenceLlama {
    return new ReferenceLlama(
      {
        dim: config.hidden_size,
        hiddenDim: config.intermediate_size,
        nLayers: config.num_hidden_layers,
        nHeads: config.num_attention_heads,
        nKvHeads: config.num_key_value_heads,
        vocab: config.vocab_size,
        eps: config.rms_norm_eps,
        theta: config.rope_theta,
        rope: 'rotate_half',
      },
      weights,
      seqLen,
    );
  }

  /** A fresh oracle for a llama2.c checkpoint (interleaved RoPE, eps 1e-5, theta 10000, as run.c). */
  static fromLlama2c(ckpt: Llama2cCheckpoint): ReferenceLlama {
    const h = ckpt.header;
    return new ReferenceLlama(
      {
        dim: h.dim,
        hiddenDim: h.hiddenDim,
        nLayers: h.nLayers,
        nHeads: h.nHeads,
        nKvHeads: h.nKvHeads,
        vocab: h.vocabSize,
        eps: 1e-5,
        theta: 10000,
        rope: 'interleaved',
      },
      ckpt.weights,
      h.seqLen,
    );
  }

  private rmsnorm(x: Float32Array, g: Float32Array): Float32Array {
    let ss = 0;
    for (let i = 0; i < x.length; i++) ss += (x[i] as number) * (x[i] as number);
    ss = Math.fround(ss / x.length + this.s.eps);
    const scale = Math.fround(1 / Math.sqrt(ss));
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = (g[i] as number) * Math.fround(scale * (x[i] as number));
    return out;
  }

  private matvec(W: Float32Array, x: Float32Array, outDim: number): Float32Array {
    const n = x.length;
    const out = new Float32Array(outDim);
    for (let o = 0; o < outDim; o++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += (W[o * n + i] as number) * (x[i] as number);
      out[o] = sum;
    }
    return out;
  }

  private rope(v: Float32Array, pos: number): void {
    const hs = this.head;
    for (let base = 0; base < v.length; base += hs) {
      for (let m = 0; m < hs / 2; m++) {
        const freq = Math.fround(1 / Math.fround(Math.pow(this.s.theta, (2 * m) / hs)));
        const angle = Math.fround(pos * freq);
        const c = Math.fround(Math.cos(angle));
        const sn = Math.fround(Math.sin(angle));
        const [i0, i1] =
          this.s.rope === 'interleaved' ? [base + 2 * m, base + 2 * m + 1] : [base + m, base + m + hs / 2];
        const a = v[i0] as number;
        const b = v[i1] as number;
        v[i0] = a * c - b * sn;
        v[i1] = a * sn + b * c;
      }
    }
  }

  /** Logits for `token` at `pos` (positions must be fed in order from 0). */
  forward(token: number, pos: number): Float32Array {
    const { dim, hiddenDim, nHeads } = this.s;
    const hs = this.head;
    const kvMul = nHeads / this.s.nKvHeads;
    let x = Float32Array.from(this.w.embed.subarray(token * dim, (token + 1) * dim));
    this.w.layers.forEach((lw, l) => {
      const h = this.rmsnorm(x, lw.attnNorm);
      const q = this.matvec(lw.wq, h, dim);
      const k = this.matvec(lw.wk, h, this.kvDim);
      const v = this.matvec(lw.wv, h, this.kvDim);
      this.rope(q, pos);
      this.rope(k, pos);
      (this.keyCache[l] as Float32Array).set(k, pos * this.kvDim);
      (this.valueCache[l] as Float32Array).set(v, pos * this.kvDim);
      const att = new Float32Array(dim);
      for (let hIdx = 0; hIdx < nHeads; hIdx++) {
        const kvOff = Math.floor(hIdx / kvMul) * hs;
        const scores = new Float32Array(pos + 1);
        for (let t = 0; t <= pos; t++) {
          let sc = 0;
          for (let i = 0; i < hs; i++)
            sc +=
              (q[hIdx * hs + i] as number) *
              ((this.keyCache[l] as Float32Array)[t * this.kvDim + kvOff + i] as number);
          scores[t] = sc / Math.sqrt(hs);
        }
        let max = -Infinity;
        for (const sc of scores) max = Math.max(max, sc);
        let sum = 0;
        for (let t = 0; t <= pos; t++) {
          scores[t] = Math.exp((scores[t] as number) - max);
          sum += scores[t] as number;
        }
        for (let t = 0; t <= pos; t++) {
          const p = (scores[t] as number) / sum;
          for (let i = 0; i < hs; i++) {
            att[hIdx * hs + i] =
              (att[hIdx * hs + i] as number) +
              p * ((this.valueCache[l] as Float32Array)[t * this.kvDim + kvOff + i] as number);
          }
        }
      }
      const o = this.matvec(lw.wo, att, dim);
      x = x.map((xi, i) => xi + (o[i] as number));
      const h2 = this.rmsnorm(x, lw.ffnNorm);
      const a = this.matvec(lw.w1, h2, hiddenDim);
      const b = this.matvec(lw.w3, h2, hiddenDim);
      const c = a.map((ai, i) => ai * (1 / (1 + Math.exp(-ai))) * (b[i] as number));
      const down = this.matvec(lw.w2, c, dim);
      x = x.map((xi, i) => xi + (down[i] as number));
    });
    const xn = this.rmsnorm(x, this.w.finalNorm);
    return this.matvec(this.w.lmHead ?? this.w.embed, xn, this.s.vocab);
  }

  /** Greedy continuation like llama2.c: forced prompt tokens, then argmax until `eos` or `n` tokens. */
  greedy(prompt: readonly number[], n: number, eos: readonly number[]): number[] {
    const out: number[] = [];
    let token = prompt[0] as number;
    for (let pos = 0; pos < this.seqLen; pos++) {
      const logits = this.forward(token, pos);
      if (pos + 1 < prompt.length) {
        token = prompt[pos + 1] as number;
        continue;
      }
      let best = 0;
      for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
      if (eos.includes(best) || out.length >= n) break;
      out.push(best);
      token = best;
    }
    return out.slice(0, n);
  }
}
