import type { ModelConfig } from '@hotpath/contracts';

/**
 * Batches only fill when enough jobs are in the worker at once: BullMQ hands a worker at most
 * `concurrency` jobs per served shard queue, and full batches on every replica need
 * `max_batch_size × replicas` of them. Returns a warning for a model whose setting caps its batches,
 * or undefined when it is fine (or batching is off).
 */
export function batchCapacityWarning(model: ModelConfig, servedShards: number): string | undefined {
  if (!model.batching.enabled) return undefined;
  const inWorker = model.concurrency * servedShards;
  const needed = model.batching.max_batch_size * model.replicas;
  if (inWorker >= needed) return undefined;
  return (
    `model "${model.name}": concurrency ${model.concurrency} × ${servedShards} served shard(s) = ${inWorker} ` +
    `jobs in flight, below max_batch_size ${model.batching.max_batch_size} × replicas ${model.replicas} = ${needed}; ` +
    `batches cannot fill. Set concurrency ≥ ${Math.ceil(needed / servedShards)}.`
  );
}
