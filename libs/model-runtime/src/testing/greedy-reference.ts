import type { GenerationRequest } from '../generation/generation-types';
import { LocalModel } from '../generation/local-model';
import { SequenceState } from '../generation/sequence-state';

/** CPU with one thread per session: what the runtime tests run on, on a machine others share. */
export const TEST_EXECUTION = {
  providers: ['cpu'],
  intra_op_threads: 1,
  inter_op_threads: 1,
  graph_optimization: 'all',
} as const;

/** A greedy request: deterministic tokens, so two engines can be compared token for token. */
export const greedy = (prompt: string, max: number): GenerationRequest => ({
  prompt,
  params: { max_tokens: max, temperature: 0 },
});

/** Each request's tokens generated on its own (no batch): the reference batched runs must match. */
export async function soloTokens(
  model: LocalModel,
  requests: readonly GenerationRequest[],
): Promise<number[][]> {
  const out: number[][] = [];
  for (const r of requests) out.push(((await model.generate([r]))[0] as { tokens: number[] }).tokens);
  return out;
}

/**
 * Each request's tokens from the plain graph of the model in `dir`, one sequence at a time: the
 * independent reference for the arena engine, batching and the prefix cache.
 */
export async function plainReferenceTokens(
  dir: string,
  requests: readonly GenerationRequest[],
): Promise<number[][]> {
  const reference = await LocalModel.load(dir, { execution: TEST_EXECUTION, engine: 'plain' });
  try {
    return await soloTokens(reference, requests);
  } finally {
    await reference.close();
  }
}

/** A sequence of `request` with `model`'s tokenizer, defaults and context length, as a replica makes it. */
export function sequenceOf(model: LocalModel, request: GenerationRequest): SequenceState {
  return SequenceState.create(
    model.info.tokenizer,
    request,
    model.generationDefaults,
    model.info.config.max_position_embeddings,
  );
}
