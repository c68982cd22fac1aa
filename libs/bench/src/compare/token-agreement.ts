import { LocalModel } from '@hotpath/model-runtime';

/** How far two systems' greedy tokens agree on the same prompts (the `token_agreement` object). */
export interface TokenAgreement {
  /** Prompts compared. */
  prompts: number;
  /** Prompts whose generated tokens are identical (same ids, same length). */
  identical: number;
  /** New tokens per prompt asked for (generation also ends at an EOS id). */
  max_tokens: number;
  /** Tokens compared over all prompts, and how many of them sit before the first difference. */
  tokens_compared: number;
  matching_prefix_tokens: number;
  /** The first prompt that differs: where, and what each side produced there. */
  first_mismatch: { prompt: number; position: number; hotpath: number | null; other: number | null } | null;
}

/** Compares Hotpath's greedy tokens with another system's, prompt by prompt (pure). */
export function compareGreedy(
  hotpath: readonly (readonly number[])[],
  other: readonly (readonly number[])[],
  maxTokens: number,
): TokenAgreement {
  const out: TokenAgreement = {
    prompts: hotpath.length,
    identical: 0,
    max_tokens: maxTokens,
    tokens_compared: 0,
    matching_prefix_tokens: 0,
    first_mismatch: null,
  };
  hotpath.forEach((a, i) => {
    const b = other[i] ?? [];
    const n = Math.max(a.length, b.length);
    let same = 0;
    while (same < n && a[same] === b[same]) same++;
    out.tokens_compared += n;
    out.matching_prefix_tokens += same;
    if (same === n) out.identical++;
    else
      out.first_mismatch ??= { prompt: i, position: same, hotpath: a[same] ?? null, other: b[same] ?? null };
  });
  return out;
}

/**
 * Hotpath's reference greedy tokens: the model folder run in this process by `LocalModel`, up to
 * `maxTokens` new tokens per prompt (ending at an EOS id), in batches of `batch` prompts.
 */
export async function hotpathGreedy(
  dir: string,
  prompts: readonly string[],
  maxTokens: number,
  batch = 16,
): Promise<number[][]> {
  const model = await LocalModel.load(dir);
  try {
    const out: number[][] = [];
    for (let i = 0; i < prompts.length; i += batch) {
      const res = await model.generate(
        prompts
          .slice(i, i + batch)
          .map((prompt) => ({ prompt, params: { max_tokens: maxTokens, temperature: 0 } })),
      );
      out.push(...res.map((r) => r.tokens));
    }
    return out;
  } finally {
    await model.close();
  }
}
