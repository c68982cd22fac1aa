import { readFileSync } from 'node:fs';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import type { LlamaWeights } from '../model/model-config';

/** Header of a llama2.c "legacy version 0" checkpoint. */
export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  sharedClassifier: boolean;
}

/** A parsed checkpoint: header plus weights in their stored (PyTorch `[out,in]`) layout. */
export interface Llama2cCheckpoint {
  header: Llama2cHeader;
  weights: LlamaWeights;
}

/** Reads a llama2.c checkpoint (FORMAT.md §1); the legacy RoPE tables are skipped. */
export function readLlama2cCheckpoint(path: string): Llama2cCheckpoint {
  const buf = readFileSync(path);
  const bad = (msg: string): HotpathError => new HotpathError(ErrorCode.InvalidModel, `${path}: ${msg}`);
  if (buf.length < 28) throw bad('too short for a llama2.c header');
  const h = Array.from({ length: 7 }, (_, i) => buf.readInt32LE(i * 4));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = h as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const header: Llama2cHeader = {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize: Math.abs(rawVocab),
    seqLen,
    sharedClassifier: rawVocab > 0,
  };
  if (
    [dim, hiddenDim, nLayers, nHeads, nKvHeads, seqLen].some((v) => v <= 0 || v > 1 << 20) ||
    rawVocab === 0
  ) {
    throw bad(`implausible header ${h.join(',')}`);
  }
  if (dim % nHeads !== 0 || nHeads % nKvHeads !== 0) throw bad('dim/n_heads/n_kv_heads do not divide');
  const head = dim / nHeads;
  const kvDim = nKvHeads * head;
  const V = header.vocabSize;
  const L = nLayers;
  const sizes = {
    embed: V * dim,
    attnNorm: L * dim,
    wq: L * dim * dim,
    wk: L * kvDim * dim,
    wv: L * kvDim * dim,
    wo: L * dim * dim,
    ffnNorm: L * dim,
    w1: L * hiddenDim * dim,
    w2: L * dim * hiddenDim,
    w3: L * hiddenDim * dim,
    finalNorm: dim,
    freqs: 2 * seqLen * (head / 2),
    cls: header.sharedClassifier ? 0 : V * dim,
  };
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  if (buf.length !== 28 + total * 4)
    throw bad(`expected ${28 + total * 4} bytes for this header, found ${buf.length}`);
  const floats = new Float32Array(total);
  for (let i = 0; i < total; i++) floats[i] = buf.readFloatLE(28 + i * 4);
  let off = 0;
  const take = (n: number): Float32Array => {
    const a = floats.subarray(off, off + n);
    off += n;
    return a;
  };
  const embed = take(sizes.embed);
  const perLayer = (all: Float32Array, n: number): Float32Array[] =>
    Array.from({ length: L }, (_, l) => all.subarray(l * n, (l + 1) * n));
  const attnNorm = perLayer(take(sizes.attnNorm), dim);
  const wq = perLayer(take(sizes.wq), dim * dim);
  const wk = perLayer(take(sizes.wk), kvDim * dim);
  const wv = perLayer(take(sizes.wv), kvDim * dim);
  const wo = perLayer(take(sizes.wo), dim * dim);
  const ffnNorm = perLayer(take(sizes.ffnNorm), dim);
  const w1 = perLayer(take(sizes.w1), hiddenDim * dim);
  const w2 = perLayer(take(sizes.w2), dim * hiddenDim);
  const w3 = perLayer(take(sizes.w3), hiddenDim * dim);
  const finalNorm = take(sizes.finalNorm);
  take(sizes.freqs);
  const lmHead = header.sharedClassifier ? undefined : take(sizes.cls);
  const weights: LlamaWeights = {
    embed,
    layers: Array.from({ length: L }, (_, l) => ({
      attnNorm: attnNorm[l] as Float32Array,
      wq: wq[l] as Float32Array,
      wk: wk[l] as Float32Array,
      wv: wv[l] as Float32Array,
      wo: wo[l] as Float32Array,
      ffnNorm: ffnNorm[l] as Float32Array,
      w1: w1[l] as Float32Array,
      w2: w2[l] as Float32Array,
      w3: w3[l] as Float32Array,
    })),
    finalNorm,
  };
  if (lmHead) weights.lmHead = lmHead;
  return { header, weights };
}

/** One `tokenizer.bin` entry. */
export interface Llama2cPiece {
  piece: string;
  score: number;
}

/** Reads a llama2.c `tokenizer.bin` (FORMAT.md §2) with `vocabSize` records. */
export function readLlama2cTokenizer(path: string, vocabSize: number): Llama2cPiece[] {
  const buf = readFileSync(path);
  const bad = (msg: string): HotpathError => new HotpathError(ErrorCode.InvalidModel, `${path}: ${msg}`);
  let off = 4;
  const out: Llama2cPiece[] = [];
  for (let i = 0; i < vocabSize; i++) {
    if (off + 8 > buf.length) throw bad(`ends after ${i} of ${vocabSize} pieces`);
    const score = buf.readFloatLE(off);
    const len = buf.readInt32LE(off + 4);
    off += 8;
    if (len < 0 || off + len > buf.length) throw bad(`piece ${i} has a bad length ${len}`);
    out.push({ piece: buf.subarray(off, off + len).toString('utf8'), score });
    off += len;
  }
  if (off !== buf.length) throw bad(`${buf.length - off} trailing bytes after ${vocabSize} pieces`);
  return out;
}

/**
 * Reorders the rows of a `[heads·head, dim]` query/key matrix from llama2.c's interleaved RoPE
 * pairs `(2m, 2m+1)` to Hugging Face's rotate-half pairs `(m, m+head/2)`. Queries and keys get the
 * same permutation, so attention scores are unchanged.
 */
export function permuteForRotateHalf(
  w: Float32Array,
  heads: number,
  head: number,
  dim: number,
): Float32Array {
  const out = new Float32Array(w.length);
  const half = head / 2;
  for (let h = 0; h < heads; h++) {
    for (let m = 0; m < half; m++) {
      const src0 = (h * head + 2 * m) * dim;
      const src1 = (h * head + 2 * m + 1) * dim;
      out.set(w.subarray(src0, src0 + dim), (h * head + m) * dim);
      out.set(w.subarray(src1, src1 + dim), (h * head + half + m) * dim);
    }
  }
  return out;
}
