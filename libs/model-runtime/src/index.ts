// The public surface: what the apps (worker, CLI) import. Everything else is internal to the
// runtime and reached by relative imports (its own tests included).
export { readProtoFields } from './onnx/protobuf-reader';
export { inspectOnnx } from './onnx/onnx-inspect';
export type { LlamaConfig } from './model/model-config';
export { loadModelFolder } from './model/model-loader';
export { listOnnxVariants, type OnnxSelection } from './model/model-layout';
export { inspectModelFolder, type ModelFolderReport } from './model/model-inspect';
export { Prng } from './forge/prng';
export { FORGE_PRESETS } from './forge/forge-presets';
export { forgedTokenizerSpec } from './forge/forge-tokenizer';
export { forgeModel } from './forge/forge';
export { importLlama2c } from './llama2c/import-llama2c';
export { DEFAULT_EXECUTION, defaultIntraOpThreads } from './session/ort-session';
export { cgroupCpuLimit, hostCores } from './session/host-cores';
export { folderBytes, hostMemoryBytes, replicasThatFit } from './session/host-memory';
export { LocalModel, type EngineKind, type LocalModelOptions } from './generation/local-model';
export { replicaExecution } from './replica/replica-pool';
export { SequenceState } from './generation/sequence-state';
export { ReplicaPool, type ReplicaBatchReport } from './replica/replica-pool';
export {
  CPU_PLACEMENT_MODES,
  type CpuPlacementMode,
  CpuPlacement,
  allowedCpus,
  placementBlocker,
  confineBesideWorker,
} from './placement/cpu-placement';
export { formatCpuList, parseCpuList } from './placement/cpu-list';
export type { ReplicaStats } from './replica/replica-protocol';
export { engineGraphFor } from './engine/engine-model';
export { exportLlamaGguf, GGUF_EXPORT_TYPES, type GgufExportType } from './gguf/llama-gguf';
export { measureRoofline, modelFlopsPerToken, rooflineLimits, type Roofline } from './roofline/roofline';
export { QUANT_METHODS, type QuantMethod } from './optimize/quantize-graph';
export { DEFAULT_KEEP_FLOAT, quantizeModelFolder } from './optimize/quantize-folder';
export { pruneModelFolder } from './optimize/prune';
export {
  greedyAgreement,
  measureFidelity,
  sampleText,
  type FidelityReport,
  type GreedyAgreement,
} from './optimize/fidelity';
