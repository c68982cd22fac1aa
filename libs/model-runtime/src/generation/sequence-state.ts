import { randomInt } from 'node:crypto';
import type { SequenceStep } from '@hotpath/batching';
import { ErrorCode, HotpathError, type FinishReason } from '@hotpath/contracts';
import { Prng } from '../forge/prng';
import { TokenTextStream, type TextTokenizer } from '@hotpath/tokenizer';
import type { GeneratedToken, GenerationDefaults, GenerationRequest } from './generation-types';
import { sampleToken, type SamplerSettings } from './sampler';

/** What accepting one row of logits did to a sequence. */
export type TokenStep = SequenceStep<GeneratedToken>;

/**
 * The decoding state of one sequence, independent of batching: prompt ids, sampler and seeded
 * PRNG, streamed text, stop strings, EOS and length limits. Both the one-shot `generate` and the
 * continuous-batching engine drive it, so a sequence ends the same way on either path.
 */
export class SequenceState {
  readonly tokens: number[] = [];
  text = '';
  finish: FinishReason | null = null;
  private readonly stream: TokenTextStream;

  private constructor(
    readonly prompt: number[],
    tokenizer: TextTokenizer,
    private readonly rng: Prng,
    private readonly settings: SamplerSettings,
    private readonly maxTokens: number,
    private readonly stop: readonly string[],
    private readonly eos: ReadonlySet<number>,
    private readonly maxPositions: number,
  ) {
    this.stream = new TokenTextStream(tokenizer, prompt[prompt.length - 1]);
  }

  /**
   * Encodes and validates a request (`invalid_input` for an empty prompt or one that fills the
   * context). `label` names the prompt in error messages.
   */
  static create(
    tokenizer: TextTokenizer,
    request: GenerationRequest,
    defaults: GenerationDefaults,
    maxPositions: number,
    label = 'prompt',
  ): SequenceState {
    const prompt =
      typeof request.prompt === 'string' ? tokenizer.encode(request.prompt) : [...request.prompt];
    if (prompt.length === 0)
      throw new HotpathError(ErrorCode.InvalidInput, `${label} encodes to no tokens`, 'input.prompt');
    if (prompt.length >= maxPositions) {
      throw new HotpathError(
        ErrorCode.InvalidInput,
        `${label} has ${prompt.length} tokens; the model's context is ${maxPositions}`,
        'input.prompt',
      );
    }
    const p = request.params ?? {};
    return new SequenceState(
      prompt,
      tokenizer,
      new Prng(p.seed ?? randomInt(0, 2 ** 32 - 1)),
      { temperature: p.temperature ?? defaults.temperature, topK: p.top_k ?? 0, topP: p.top_p ?? 1 },
      p.max_tokens ?? defaults.maxTokens,
      p.stop ?? [],
      new Set(defaults.eosIds),
      maxPositions,
    );
  }

  /** Tokens in the KV cache once the last generated token has been fed: prompt + generated − 1. */
  get cachedAfterFeed(): number {
    return this.prompt.length + this.tokens.length;
  }

  /** The id to feed at the next decode step. */
  get lastToken(): number {
    return this.tokens[this.tokens.length - 1] as number;
  }

  /** Samples from one row of next-token logits and applies EOS, stop strings and length limits. */
  accept(row: Float32Array): TokenStep {
    const id = sampleToken(row, this.settings, this.rng);
    if (this.eos.has(id)) {
      this.finish = 'stop';
      // What the stream held back for a following token (a partial character, a space that
      // clean-up might drop) is final now; the caller's final text carries it.
      this.text += this.stream.flush();
      return { token: null, finish: 'stop' };
    }
    this.tokens.push(id);
    let piece = this.stream.push(id);
    if (this.tokens.length >= this.maxTokens || this.cachedAfterFeed >= this.maxPositions)
      piece += this.stream.flush();
    const before = this.text.length;
    this.text += piece;
    const hit = firstStop(this.text, this.stop, Math.max(0, before - maxStopLen(this.stop)));
    if (hit >= 0) {
      this.text = this.text.slice(0, hit);
      this.finish = 'stop';
    }
    if (!this.finish && (this.tokens.length >= this.maxTokens || this.cachedAfterFeed >= this.maxPositions))
      this.finish = 'length';
    return { token: { index: this.tokens.length - 1, token_id: id, text: piece }, finish: this.finish };
  }
}

function maxStopLen(stop: readonly string[]): number {
  return stop.reduce((m, s) => Math.max(m, s.length), 0);
}

function firstStop(text: string, stop: readonly string[], from: number): number {
  let best = -1;
  for (const s of stop) {
    const i = text.indexOf(s, from);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}
