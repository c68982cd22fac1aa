import type { CausalLm } from '../generation/causal-lm';
import type { LocalModel } from '../generation/local-model';

/** Teacher-forced fidelity of a model on a token stream, optionally against a reference model. */
export interface FidelityReport {
  /** Next-token predictions scored. */
  tokens: number;
  perplexity: number;
  reference?: {
    perplexity: number;
    /** (perplexity / reference perplexity − 1) · 100. */
    perplexity_delta_pct: number;
    /** Share of positions whose top-1 next token equals the reference's. */
    top1_agreement: number;
    /** Mean KL(reference ‖ model) of the next-token distributions, in nats. */
    mean_kl: number;
  };
}

/** Log-softmax of one logits row, in float64. */
function logSoftmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (v) => v - lse);
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[best] as number)) best = i;
  return best;
}

/** Logits of every position of `ids` (one row, no cache), `[ids.length, vocab]`. */
export async function windowLogits(lm: CausalLm, ids: readonly number[]): Promise<Float32Array> {
  const out = await lm.forward({
    batch: 1,
    seq: ids.length,
    inputIds: ids,
    attentionMask: ids.map(() => 1),
    positionIds: ids.map((_, i) => i),
    past: null,
  });
  return out.logits;
}

/**
 * Perplexity of `model` on `tokens` (windows of `window` tokens, each starting fresh at position
 * 0), and with `reference`, top-1 agreement and mean KL divergence of their next-token
 * distributions at every position. Both models must be loaded with `engine: 'plain'` (every
 * position's logits) and share a vocabulary.
 */
export async function measureFidelity(
  model: LocalModel,
  tokens: readonly number[],
  opts: { window: number; reference?: LocalModel },
): Promise<FidelityReport> {
  const lm = model.causalLm;
  const ref = opts.reference?.causalLm;
  if (ref && ref.vocabSize !== lm.vocabSize)
    throw new RangeError(`vocabularies differ: ${lm.vocabSize} vs reference ${ref.vocabSize}`);
  const V = lm.vocabSize;
  let nll = 0;
  let refNll = 0;
  let agree = 0;
  let kl = 0;
  let n = 0;
  for (let start = 0; start + 1 < tokens.length; start += opts.window) {
    const ids = tokens.slice(start, Math.min(tokens.length, start + opts.window + 1));
    const input = ids.slice(0, -1);
    const logits = await windowLogits(lm, input);
    const refLogits = ref ? await windowLogits(ref, input) : null;
    for (let i = 0; i < input.length; i++) {
      const row = logits.subarray(i * V, (i + 1) * V);
      const lp = logSoftmax(row);
      const next = ids[i + 1] as number;
      nll -= lp[next] as number;
      if (refLogits) {
        const refRow = refLogits.subarray(i * V, (i + 1) * V);
        const rp = logSoftmax(refRow);
        refNll -= rp[next] as number;
        if (argmax(row) === argmax(refRow)) agree++;
        for (let v = 0; v < V; v++) kl += Math.exp(rp[v] as number) * ((rp[v] as number) - (lp[v] as number));
      }
      n++;
    }
  }
  const perplexity = Math.exp(nll / Math.max(1, n));
  if (!ref) return { tokens: n, perplexity };
  const refPpl = Math.exp(refNll / Math.max(1, n));
  return {
    tokens: n,
    perplexity,
    reference: {
      perplexity: refPpl,
      perplexity_delta_pct: (perplexity / refPpl - 1) * 100,
      top1_agreement: agree / Math.max(1, n),
      mean_kl: kl / Math.max(1, n),
    },
  };
}

/** Greedy continuations of a prompt set, compared with the reference's. */
export interface GreedyAgreement {
  prompts: number;
  /** Prompts whose free-running greedy tokens all equal the reference's. */
  identical: number;
  /**
   * Along the reference's greedy continuations (teacher-forced, so one early near-tie does not
   * decide every later position): the share of steps where the model's top-1 token is the
   * reference's greedy token.
   */
  position_agreement: number;
  /** Mean tokens before the free-running sequences first differ. */
  mean_first_divergence: number;
}

/** Greedy continuations of `prompts` by both models, compared (see {@link GreedyAgreement}). */
export async function greedyAgreement(
  model: LocalModel,
  reference: LocalModel,
  prompts: readonly (readonly number[])[],
  tokens: number,
): Promise<GreedyAgreement> {
  const requests = prompts.map((p) => ({ prompt: [...p], params: { max_tokens: tokens, temperature: 0 } }));
  const ref = await reference.generate(requests);
  const own = await model.generate(requests);
  const V = model.causalLm.vocabSize;
  let identical = 0;
  let same = 0;
  let total = 0;
  let divergence = 0;
  for (let i = 0; i < prompts.length; i++) {
    const p = prompts[i] as readonly number[];
    const y = (ref[i] as { tokens: readonly number[] }).tokens;
    const x = (own[i] as { tokens: readonly number[] }).tokens;
    let first = 0;
    while (first < Math.min(x.length, y.length) && x[first] === y[first]) first++;
    divergence += first;
    if (first === x.length && first === y.length) identical++;
    if (y.length === 0) continue;
    const seq = [...p, ...y];
    const logits = await windowLogits(model.causalLm, seq.slice(0, -1));
    for (let j = 0; j < y.length; j++) {
      const at = p.length - 1 + j;
      if (argmax(logits.subarray(at * V, (at + 1) * V)) === y[j]) same++;
      total++;
    }
  }
  return {
    prompts: prompts.length,
    identical,
    position_agreement: same / Math.max(1, total),
    mean_first_divergence: divergence / Math.max(1, prompts.length),
  };
}

/**
 * A held-out text sampled from `model` itself (temperature 1, one seed per passage, each passage
 * starting from BOS): deterministic for a given model and seed, so a fixture made by it can be
 * checked and re-made.
 */
export async function sampleText(
  model: LocalModel,
  opts: { seed: number; passages: number; tokens: number },
): Promise<string> {
  const bos = model.info.tokenizer.bosId ?? 1;
  const out = await model.generate(
    Array.from({ length: opts.passages }, (_, i) => ({
      prompt: [bos],
      params: { max_tokens: opts.tokens, temperature: 1, seed: opts.seed + i },
    })),
  );
  return `${out.map((o) => o.text.trim()).join('\n\n')}\n`;
}
