import { Prng } from '@hotpath/model-runtime';

/** One request of the generate workload. */
export interface BenchPrompt {
  prompt: string;
  /** New tokens requested (greedy). */
  maxTokens: number;
}

/** Inclusive range of `max_tokens` per request. */
export interface TokenRange {
  min: number;
  max: number;
}

/** The benchmark workload: 64–128 new tokens per request. */
export const DEFAULT_TOKEN_RANGE: TokenRange = { min: 64, max: 128 };

const WORDS = (
  'once upon a time there was little girl boy named lily tom who loved to play in the park ' +
  'with her his friends one day she he saw big red ball tree dog cat bird sun sky happy sad ' +
  'and went home mom dad said look at that we can help you it was very fun they all smiled ' +
  'because wanted find new toy garden flower water river boat fish jump run fast slow'
).split(' ');

/** Prompt lengths in words: mostly short chat-like prompts, some paragraphs (a long tail). */
const LENGTH_BUCKETS: readonly { words: [number, number]; weight: number }[] = [
  { words: [3, 8], weight: 0.4 },
  { words: [9, 24], weight: 0.35 },
  { words: [25, 60], weight: 0.2 },
  { words: [61, 100], weight: 0.05 },
];

function intIn(rng: Prng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

/**
 * A fixed, seeded set of prompts of varied lengths (3–100 words) with `max_tokens` drawn uniformly
 * from `tokens`. The same seed gives the same set on every machine, and every system under test
 * walks it in the same order.
 */
export function promptSet(
  seed: number,
  count: number,
  tokens: TokenRange = DEFAULT_TOKEN_RANGE,
): BenchPrompt[] {
  const rng = new Prng(seed);
  const out: BenchPrompt[] = [];
  for (let i = 0; i < count; i++) {
    let pick = rng.next();
    let bucket = LENGTH_BUCKETS[LENGTH_BUCKETS.length - 1] as (typeof LENGTH_BUCKETS)[number];
    for (const b of LENGTH_BUCKETS) {
      if (pick < b.weight) {
        bucket = b;
        break;
      }
      pick -= b.weight;
    }
    const n = intIn(rng, bucket.words[0], bucket.words[1]);
    const words = Array.from({ length: n }, () => WORDS[intIn(rng, 0, WORDS.length - 1)] as string);
    const first = words[0] as string;
    words[0] = first.charAt(0).toUpperCase() + first.slice(1);
    out.push({ prompt: words.join(' '), maxTokens: intIn(rng, tokens.min, tokens.max) });
  }
  return out;
}

/** Short texts for the embeddings workload, seeded like {@link promptSet}. */
export function embedTexts(seed: number, count: number): string[] {
  return promptSet(seed ^ 0x5eed, count, { min: 1, max: 1 }).map((p) => p.prompt);
}
