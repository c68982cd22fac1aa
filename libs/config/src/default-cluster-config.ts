import type { ClusterConfigInput } from '@hotpath/contracts';

/**
 * The built-in cluster config `hotpath up` serves when `HOTPATH_CONFIG` is unset:
 * - `sim`: the zero-CPU simulated backend, for trying the job path and load-testing the queues;
 * - `tiny`: a forged ~0.3M-parameter Llama decoder (onnxruntime-node) for real text generation;
 * - `tiny-embed`: a forged MiniLM-shaped encoder for embeddings.
 * The two real models are forged into `<HOTPATH_DATA_DIR>/models/` on first start (deterministic weights).
 */
export const DEFAULT_CLUSTER_CONFIG: ClusterConfigInput = {
  models: [
    {
      name: 'sim',
      backend: 'sim',
      tasks: ['generate', 'embed'],
      shards: 2,
      concurrency: 64,
      sim: { base_ms: 0, per_item_ms: 0, embedding_dim: 8 },
    },
    {
      name: 'tiny',
      backend: 'onnx',
      tasks: ['generate'],
      path: 'models/tiny',
      forge: { arch: 'llama', preset: 'tiny', seed: 1 },
      shards: 1,
      // replicas: auto, one per core with one thread each: a model this small is bound by
      // per-operator overhead, so independent replicas beat one replica with more threads.
      concurrency: 32,
      default_max_tokens: 32,
      // GQA forwards of at most 16 rows at every batch size: cheaper per row than one wide forward
      // on a model this small (docs/engine.md#two-engine-graphs-by-batch-size).
      execution: { gqa_chunk_rows: 16 },
    },
    {
      name: 'tiny-embed',
      backend: 'onnx',
      tasks: ['embed'],
      path: 'models/tiny-embed',
      forge: { arch: 'bert', preset: 'tiny-embed', seed: 1 },
      shards: 1,
      replicas: 1,
      concurrency: 32,
    },
  ],
};
