import type { MicroBatcherOptions, SchedulerPolicy } from '@hotpath/batching';
import type { ModelConfig } from '@hotpath/contracts';
import { modelReplicas } from './model-replicas';

/**
 * The micro-batching policy of a model (`batching.micro`, one concurrent batch per replica). With
 * `batching.enabled: false` every batch holds one item: the naive design, on the same replica slots.
 */
export function microBatchPolicy(
  config: ModelConfig,
): Pick<
  MicroBatcherOptions<unknown, unknown>,
  'maxBatchSize' | 'maxQueueDelayMs' | 'maxConcurrentBatches' | 'agingMs'
> {
  const { enabled, micro, priority_aging_ms } = config.batching;
  return {
    maxBatchSize: enabled ? micro.max_batch_size : 1,
    maxQueueDelayMs: enabled ? micro.max_queue_delay_ms : 0,
    maxConcurrentBatches: modelReplicas(config),
    agingMs: priority_aging_ms,
  };
}

/**
 * The continuous-batching policy of each replica of a model (`batching.continuous`). With
 * `batching.enabled: false` a replica runs one sequence at a time.
 */
export function continuousPolicy(config: ModelConfig): SchedulerPolicy {
  const { enabled, continuous, priority_aging_ms } = config.batching;
  return {
    maxRunningSequences: enabled ? continuous.max_running_sequences : 1,
    prefillChunkTokens: continuous.prefill_chunk_tokens,
    decodeStepsPerPrefill: continuous.decode_steps_per_prefill,
    agingMs: priority_aging_ms,
  };
}
