import { createHash } from 'node:crypto';
import type { FinishReason } from '@hotpath/contracts';
import type { TokenEvent } from './inference-backend';

/** Size of the simulated vocabulary: token ids are in `[0, SIM_VOCAB_SIZE)`, like a Llama 2 tokenizer. */
export const SIM_VOCAB_SIZE = 32_000;

/** The knobs of the sim latency model (a subset of the model's `sim` settings). */
export interface SimLatencySettings {
  base_ms: number;
  per_item_ms: number;
  prefill_per_token_ms?: number;
}

/**
 * The sim backend's latency model, per forward: `base_ms + per_item_ms × rows` milliseconds, plus
 * `prefill_per_token_ms` per prompt token a prefill feeds. Rows are the jobs of an embed batch or
 * the sequences of a generate prefill or decode step. Load tests pick the numbers to mimic a real
 * model's fixed, per-row and per-prompt-token cost.
 */
export function simLatencyMs(sim: SimLatencySettings, rows: number, promptTokens = 0): number {
  return sim.base_ms + sim.per_item_ms * Math.max(1, rows) + (sim.prefill_per_token_ms ?? 0) * promptTokens;
}

/** Prompt "tokens" as the sim counts them: whitespace-separated words, at least 1. */
export function countWords(text: string): number {
  const words = text.split(/\s+/).filter((w) => w.length > 0).length;
  return Math.max(1, words);
}

/** sfc32: a small, fast, well-distributed PRNG seeded from 128 bits; returns uint32 values. */
function sfc32(seed: Buffer): () => number {
  let a = seed.readUInt32LE(0);
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
}

function seededRandom(material: string): () => number {
  const rng = sfc32(createHash('sha256').update(material).digest());
  // The first outputs of sfc32 are correlated with the seed words; discard a few, as its author advises.
  for (let i = 0; i < 12; i++) rng();
  return rng;
}

const CONSONANTS = 'bcdfghklmnprstvz';
const VOWELS = 'aeiou';

function syllable(n: number): string {
  return `${CONSONANTS[n % CONSONANTS.length] ?? 'b'}${VOWELS[Math.floor(n / CONSONANTS.length) % VOWELS.length] ?? 'a'}`;
}

const SYLLABLES = CONSONANTS.length * VOWELS.length;

/**
 * The text of a sim token id: one to three syllables, mostly with a leading space (a word start),
 * sometimes without (a word continuation), so that generated text reads like words.
 */
export function simTokenText(id: number): string {
  const first = syllable(id % SYLLABLES);
  const rest = Math.floor(id / SYLLABLES);
  const second = rest % 3 === 0 ? '' : syllable(rest % SYLLABLES);
  const third = rest % 7 === 0 ? syllable((rest >> 3) % SYLLABLES) : '';
  const lead = id % 5 === 0 ? '' : ' ';
  return `${lead}${first}${second}${third}`;
}

/** A planned sim generation: the tokens to stream and the final text, before any cancellation. */
export interface SimGenerationPlan {
  tokens: TokenEvent[];
  /** Final text: the tokens' text joined, truncated before the first stop sequence when one occurred. */
  text: string;
  finish_reason: Extract<FinishReason, 'stop' | 'length'>;
}

/**
 * Deterministic generation: the same prompt and seed always give the same tokens (seeded by
 * sha256(prompt + seed)). Emits up to `maxTokens` tokens; when the text comes to contain a stop
 * sequence, the token that completed it is dropped, the text is cut before the stop string and
 * the finish reason is `stop`; otherwise it is `length`.
 */
export function planSimGeneration(
  prompt: string,
  seed: number | undefined,
  maxTokens: number,
  stop: readonly string[] = [],
): SimGenerationPlan {
  const rng = seededRandom(`${prompt}${seed ?? ''}`);
  const longestStop = stop.reduce((m, s) => Math.max(m, s.length), 0);
  const tokens: TokenEvent[] = [];
  let text = '';
  for (let index = 0; index < maxTokens; index++) {
    const token_id = rng() % SIM_VOCAB_SIZE;
    const piece = simTokenText(token_id);
    const next = text + piece;
    if (longestStop > 0) {
      // Only the tail can hold a stop string that this token completed.
      const from = Math.max(0, text.length - longestStop + 1);
      let cut = -1;
      for (const s of stop) {
        const at = next.indexOf(s, from);
        if (at >= 0 && (cut < 0 || at < cut)) cut = at;
      }
      if (cut >= 0) return { tokens, text: next.slice(0, cut), finish_reason: 'stop' };
    }
    tokens.push({ index, text: piece, token_id });
    text = next;
  }
  return { tokens, text, finish_reason: 'length' };
}

/** A deterministic, L2-normalised embedding of `dim` values derived from sha256(text). */
export function simEmbedding(text: string, dim: number): number[] {
  const rng = seededRandom(text);
  const v = Array.from({ length: dim }, () => rng() / 0x8000_0000 - 1);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  if (norm === 0) return v.map((_, i) => (i === 0 ? 1 : 0));
  return v.map((x) => x / norm);
}
