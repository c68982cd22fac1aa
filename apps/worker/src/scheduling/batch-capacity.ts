import type { ModelConfig } from '@hotpath/contracts';
import { modelReplicas } from '../backends/model-replicas';

/**
 * Batches only fill when enough jobs are in the worker at once: BullMQ hands a worker at most
 * `concurrency` jobs per served shard queue, and full batches on every replica need
 * `max_running_sequences × replicas` generate jobs (`batching.continuous`) or
 * `max_batch_size × replicas` embed jobs (`batching.micro`, one text each at worst). Returns a
 * warning for a model whose setting caps its batches, or undefined when it is fine (or batching is off).
 */
export function batchCapacityWarning(model: ModelConfig, servedShards: number): string | undefined {
  if (!model.batching.enabled) return undefined;
  const inWorker = model.concurrency * servedShards;
  const perReplica = (
    [
      ['generate', 'continuous.max_running_sequences', model.batching.continuous.max_running_sequences],
      ['embed', 'micro.max_batch_size', model.batching.micro.max_batch_size],
    ] as const
  ).filter(([task]) => model.tasks.includes(task));
  const [, key, size] = perReplica.reduce((a, b) => (b[2] > a[2] ? b : a));
  const replicas = modelReplicas(model);
  const needed = size * replicas;
  if (inWorker >= needed) return undefined;
  return (
    `model "${model.name}": concurrency ${model.concurrency} × ${servedShards} served shard(s) = ${inWorker} ` +
    `jobs in flight, below batching.${key} ${size} × replicas ${replicas} = ${needed}; ` +
    `batches cannot fill. Set concurrency ≥ ${Math.ceil(needed / servedShards)}.`
  );
}
