export {
  GraphBuilder,
  MS_DOMAIN,
  OnnxType,
  type OnnxTypeName,
  type TensorData,
  type Dim,
  type AttrValue,
} from './onnx/graph-builder';
export { ProtoWriter } from './onnx/protobuf-writer';
export { readProtoFields, type ProtoField } from './onnx/protobuf-reader';
export { inspectOnnx, onnxTypeName, type OnnxSignature, type OnnxValueInfo } from './onnx/onnx-inspect';
export { buildLlamaGraph, transpose } from './onnx/llama-graph';
export { buildBertGraph } from './onnx/bert-graph';
export type {
  LlamaConfig,
  BertConfig,
  ModelConfigJson,
  GenerationConfigJson,
  HotpathJson,
  LlamaWeights,
  BertWeights,
} from './model/model-config';
export {
  MODEL_FILES,
  computeModelDigest,
  writeModelFolder,
  type ModelFolderContents,
} from './model/model-folder';
export { loadModelFolder, type LoadedModel, type LoadOptions } from './model/model-loader';
export {
  ONNX_DTYPES,
  ONNX_DTYPE_SUFFIXES,
  listOnnxVariants,
  selectOnnxVariant,
  type OnnxDtype,
  type OnnxSelection,
  type OnnxVariant,
  type FolderLayout,
} from './model/model-layout';
export { readPooling, DEFAULT_POOLING, type PoolingConfig } from './model/pooling';
export { inspectModelFolder, type ModelFolderReport } from './model/model-inspect';
export { Prng } from './forge/prng';
export {
  FORGE_PRESETS,
  isForgePreset,
  type ForgePresetName,
  type LlamaPreset,
  type BertPreset,
} from './forge/forge-presets';
export { forgedTokenizerSpec } from './forge/forge-tokenizer';
export { forgeModel, forgeLlamaWeights, type ForgeOptions, type ForgeResult } from './forge/forge';
export {
  readLlama2cCheckpoint,
  readLlama2cTokenizer,
  permuteForRotateHalf,
  type Llama2cCheckpoint,
  type Llama2cHeader,
  type Llama2cPiece,
} from './llama2c/llama2c-reader';
export {
  importLlama2c,
  llama2cTokenizerSpec,
  type ImportLlama2cOptions,
  type ImportLlama2cResult,
} from './llama2c/import-llama2c';
export {
  OrtSession,
  DEFAULT_EXECUTION,
  defaultIntraOpThreads,
  type ExecutionSettings,
  type RuntimeTensor,
} from './session/ort-session';
export { CausalLm, type KvCache, type ForwardInput, type ForwardOutput } from './generation/causal-lm';
export { argmax, sampleToken, type SamplerSettings } from './generation/sampler';
export {
  generate,
  type GenerationParams,
  type GenerationRequest,
  type GenerationOutput,
  type GeneratedToken,
  type GenerateHooks,
  type GenerationDefaults,
  type FinishReason,
} from './generation/generator';
export { embedTexts } from './generation/embedder';
export {
  LocalModel,
  type LocalModelOptions,
  type EngineMode,
  type DecoderEngine,
} from './generation/local-model';
export {
  ReplicaPool,
  type ReplicaPoolOptions,
  type EmbedOutput,
  type SubmitGenerationOptions,
  type PoolIterationGroup,
} from './replica/replica-pool';
export type { ReplicaModelInfo, ReplicaStats, ScheduledGenerationOutput } from './replica/replica-protocol';
export { SequenceState, type TokenStep } from './generation/sequence-state';
export {
  IterationScheduler,
  DEFAULT_SCHEDULER_POLICY,
  type SequenceEngine,
  type SchedulerPolicy,
  type ScheduleOptions,
  type ScheduledOutcome,
  type IterationGroup,
} from './batching/iteration-scheduler';
export { OnnxBatchEngine } from './batching/onnx-batch-engine';
export {
  PrefixKvCache,
  prefixBlockHashes,
  type PrefixCacheSettings,
  type PrefixBlockKv,
  type PrefixHit,
  type PrefixCacheStats,
} from './batching/prefix-cache';
export { assembleKv, decodeMask, blockLength, type KvBlock, type KvRowRef } from './batching/kv-block';
export { ArenaEngine, adjacentRuns, type ArenaEngineStats } from './engine/arena-engine';
export { KvArena, type KvArenaShape, type KvView } from './engine/kv-arena';
export { buildEngineGraph, ENGINE_IO, ENGINE_GRAPH_VERSION } from './engine/engine-graph';
export { engineWeightsFromOnnx, EngineWeightsUnavailable, type EngineWeights } from './engine/engine-weights';
export { engineGraphFor, ENGINE_CACHE_DIR, type EngineGraphFile } from './engine/engine-model';
export { generateScheduled } from './generation/generate-scheduled';
export {
  exportLlamaGguf,
  permuteToInterleaved,
  GGUF_EXPORT_TYPES,
  type GgufExportType,
  type ExportGgufOptions,
  type ExportGgufResult,
} from './gguf/llama-gguf';
export {
  writeGguf,
  encodeTensor,
  GgufValueType,
  GgmlType,
  GGUF_MAGIC,
  GGUF_VERSION,
  GGUF_ALIGNMENT,
  type GgufValue,
  type GgufTensor,
  type GgmlTypeName,
} from './gguf/gguf-writer';
export { ggufVocab, GgufTokenType, type GgufVocab } from './gguf/gguf-tokenizer';
export { float16Bits, float16Value, toFloat16, fromFloat16 } from './session/float16';
export { quantizeQ8_0, dequantizeQ8_0, Q8_0_BLOCK } from './gguf/gguf-quant';
export { readOnnxInitializers, type OnnxInitializer } from './onnx/onnx-initializers';
export {
  measureRoofline,
  modelFlopsPerToken,
  modelMatmulParameters,
  rooflineLimits,
  type Roofline,
  type RooflineOptions,
  type GemmPoint,
} from './roofline/roofline';
export {
  QUANT_METHODS,
  quantizeOnnxGraph,
  type QuantMethod,
  type QuantSpec,
  type QuantizeGraphResult,
} from './optimize/quantize-graph';
export { readFloatWeights, readQuantSpec } from './optimize/graph-weights';
export {
  DEFAULT_KEEP_FLOAT,
  quantizeModelFolder,
  type QuantizeFolderOptions,
  type QuantizeFolderResult,
} from './optimize/quantize-folder';
export { pruneModelFolder, type PruneOptions, type PruneResult } from './optimize/prune';
export {
  greedyAgreement,
  measureFidelity,
  sampleText,
  type FidelityReport,
  type GreedyAgreement,
} from './optimize/fidelity';
