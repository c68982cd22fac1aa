import type { GenerateHooks, GenerationRequest } from '../generation/generation-types';
import type { ReplicaPool } from '../replica/replica-pool';
import type { ScheduledGenerationOutput } from '../replica/replica-protocol';

/**
 * Submits every request as its own sequence (they batch inside the replicas) and collects the
 * outputs in request order, tokens reported with their request's index: the one-shot shape the
 * tests compare against `LocalModel.generate`.
 */
export async function poolGenerate(
  pool: ReplicaPool,
  requests: readonly GenerationRequest[],
  hooks: GenerateHooks = {},
): Promise<ScheduledGenerationOutput[]> {
  return await Promise.all(
    requests.map((request, i) =>
      pool.submitGeneration(request, {
        signal: hooks.signal,
        onToken: hooks.onToken ? (t) => hooks.onToken?.(i, t) : undefined,
      }),
    ),
  );
}
