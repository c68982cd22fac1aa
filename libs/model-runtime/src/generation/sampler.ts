import type { Prng } from '../forge/prng';

/** Sampling knobs of one sequence. */
export interface SamplerSettings {
  /** 0 = greedy (argmax, lowest index on ties). */
  temperature: number;
  /** 0 = no top-k cut. */
  topK: number;
  /** 1 = no nucleus cut. */
  topP: number;
}

/** Index of the largest value; the lowest index wins an exact tie. */
export function argmax(row: Float32Array): number {
  let best = 0;
  let bestV = row[0] ?? -Infinity;
  for (let i = 1; i < row.length; i++) {
    const v = row[i] as number;
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/**
 * Picks the next token from one row of logits: greedy at temperature 0, else temperature-scaled
 * softmax restricted by top-k then top-p, sampled with the sequence's seeded PRNG (so the same
 * seed gives the same tokens).
 */
export function sampleToken(row: Float32Array, s: SamplerSettings, rng: Prng): number {
  if (s.temperature <= 0) return argmax(row);
  let idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => (row[b] as number) - (row[a] as number) || a - b);
  if (s.topK > 0 && s.topK < idx.length) idx = idx.slice(0, s.topK);
  const max = row[idx[0] as number] as number;
  let probs = idx.map((i) => Math.exp(((row[i] as number) - max) / s.temperature));
  let sum = probs.reduce((a, b) => a + b, 0);
  if (s.topP < 1) {
    let cum = 0;
    let keep = 0;
    while (keep < probs.length) {
      cum += (probs[keep] as number) / sum;
      keep++;
      if (cum >= s.topP) break;
    }
    idx = idx.slice(0, keep);
    probs = probs.slice(0, keep);
    sum = probs.reduce((a, b) => a + b, 0);
  }
  let r = rng.next() * sum;
  for (let k = 0; k < probs.length; k++) {
    r -= probs[k] as number;
    if (r < 0) return idx[k] as number;
  }
  return idx[idx.length - 1] as number;
}
