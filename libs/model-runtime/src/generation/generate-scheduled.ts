import { IterationScheduler, type SequenceEngine } from '@hotpath/batching';
import type { LoadedModel } from '../model/model-loader';
import type {
  GeneratedToken,
  GenerateHooks,
  GenerationDefaults,
  GenerationOutput,
  GenerationRequest,
} from './generation-types';
import { SequenceState } from './sequence-state';

/**
 * One-shot generation of several requests through the continuous-batching scheduler and `engine`
 * (the same path a replica serves jobs on): all are admitted together, each leaves when it ends.
 */
export async function generateScheduled(
  engine: SequenceEngine<SequenceState, GeneratedToken>,
  model: LoadedModel,
  requests: readonly GenerationRequest[],
  defaults: GenerationDefaults,
  hooks: GenerateHooks = {},
): Promise<GenerationOutput[]> {
  const t0 = performance.now();
  const maxPos = model.config.max_position_embeddings;
  const seqs = requests.map((r, i) =>
    SequenceState.create(model.tokenizer, r, defaults, maxPos, `prompt ${i}`),
  );
  const longest = Math.max(...seqs.map((s) => s.prompt.length));
  const scheduler = new IterationScheduler(engine, {
    maxRunningSequences: seqs.length,
    // All prompts in one prefill forward, as the plain path does.
    prefillChunkTokens: Math.max(1, longest * seqs.length),
    decodeStepsPerPrefill: 1,
  });
  const firstTokenMs: (number | null)[] = seqs.map(() => null);
  const onAbort = (): void => seqs.forEach((_, i) => scheduler.cancel(i));
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (hooks.signal?.aborted) onAbort();
    const outcomes = await Promise.all(
      seqs.map((seq, i) =>
        scheduler.submit(i, seq, {
          onToken: (token) => {
            firstTokenMs[i] ??= performance.now() - t0;
            hooks.onToken?.(i, token);
          },
        }),
      ),
    );
    const inferenceMs = Math.max(0, ...outcomes.map((o) => o.inferenceMs));
    return seqs.map((s, i) => ({
      promptTokens: s.prompt,
      tokens: s.tokens,
      text: s.text,
      finishReason: outcomes[i]?.finishReason ?? 'cancelled',
      firstTokenMs: firstTokenMs[i] ?? null,
      inferenceMs,
    }));
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
    scheduler.close();
  }
}
