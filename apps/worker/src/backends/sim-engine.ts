import type { SequenceEngine, SequenceStep } from '@hotpath/batching';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { abortableSleep } from './abortable-sleep';
import type { TokenEvent } from './inference-backend';
import { simLatencyMs, type SimGenerationPlan, type SimLatencySettings } from './sim-model';

/** Delays shorter than this are not worth a timer: the forward "runs" in the same turn. */
const MIN_TIMER_MS = 1;

/** One sim generation riding a replica's running batch: its planned tokens and how far it got. */
export interface SimSequence {
  plan: SimGenerationPlan;
  /** Prompt tokens, as the sim counts them (words). */
  promptTokens: number;
  /** Prompt tokens prefilled so far (a long prompt is prefilled in chunks). */
  fed: number;
  /** Planned tokens produced so far. */
  emitted: number;
  /** Characters of the planned text those tokens cover. */
  emittedChars: number;
}

export function simSequence(plan: SimGenerationPlan, promptTokens: number): SimSequence {
  return { plan, promptTokens, fed: 0, emitted: 0, emittedChars: 0 };
}

/**
 * The model side of the sim's continuous batching: the same `SequenceEngine` contract the onnx
 * replicas serve generations through, so load tests on `sim` exercise the production scheduler.
 * Each forward takes wall-clock time and burns no CPU:
 * - prefill: `base_ms + per_item_ms × sequences + prefill_per_token_ms × prompt tokens fed`,
 *   chunked like a real engine (at most `maxTokens` prompt tokens per sequence per call);
 * - decode step: `base_ms + per_item_ms × running sequences`, one planned token per sequence.
 * Tokens come from the sequence's plan, so outputs never depend on batching. `stop` (the backend
 * closing) ends a forward early and fails it: a virtual replica holds nothing worth waiting for.
 */
export class SimSequenceEngine implements SequenceEngine<SimSequence, TokenEvent> {
  constructor(
    private readonly sim: SimLatencySettings,
    private readonly stop: AbortSignal,
  ) {}

  promptLength(seq: SimSequence): number {
    return seq.promptTokens - seq.fed;
  }

  async prefill(
    seqs: readonly SimSequence[],
    maxTokens: number,
  ): Promise<(SequenceStep<TokenEvent> | null)[]> {
    let tokens = 0;
    for (const s of seqs) {
      const n = Math.min(s.promptTokens - s.fed, maxTokens);
      s.fed += n;
      tokens += n;
    }
    await this.forward(simLatencyMs(this.sim, seqs.length, tokens));
    return seqs.map((s) => (s.fed < s.promptTokens ? null : next(s)));
  }

  async decode(seqs: readonly SimSequence[]): Promise<SequenceStep<TokenEvent>[]> {
    await this.forward(simLatencyMs(this.sim, seqs.length));
    return seqs.map(next);
  }

  release(): void {
    // Nothing is held per sequence: its plan is its whole state.
  }

  private async forward(ms: number): Promise<void> {
    if (ms >= MIN_TIMER_MS ? !(await abortableSleep(ms, this.stop)) : this.stop.aborted)
      throw new HotpathError(ErrorCode.WorkerShutdown, 'sim backend closed during a forward');
  }
}

/** The sequence's next planned token; the step that produces its last one (or none) ends it. */
function next(s: SimSequence): SequenceStep<TokenEvent> {
  const token = s.plan.tokens[s.emitted] ?? null;
  if (token) {
    s.emitted++;
    s.emittedChars += token.text.length;
  }
  return { token, finish: s.emitted >= s.plan.tokens.length ? s.plan.finish_reason : null };
}
