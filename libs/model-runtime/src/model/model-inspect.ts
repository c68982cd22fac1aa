import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LlamaConfig } from './model-config';
import { listOnnxVariants, type OnnxSelection, type OnnxVariant } from './model-layout';
import { loadModelFolder, type LoadedModel } from './model-loader';
import type { PoolingConfig } from './pooling';

/** What Hotpath sees in a model folder (`hotpath models inspect`). */
export interface ModelFolderReport {
  dir: string;
  /** Whether the loader accepts the folder; otherwise `error` says why. */
  servable: boolean;
  error?: string;
  /** Graph files of the known layouts, and which one would be served. */
  variants: OnnxVariant[];
  layout?: LoadedModel['layout'];
  onnxFile?: string;
  dtype?: LoadedModel['dtype'];
  kind?: LoadedModel['kind'];
  architecture?: string;
  modelType?: string;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  hiddenSize?: number;
  vocabSize?: number;
  contextLength?: number;
  /**
   * Element types of the KV cache and logits (decoders; one name when they agree) or of the token
   * vectors (encoders): `float32` or `float16`.
   */
  ioDtype?: string;
  /** Initializer counts by element type. */
  weightDtypes?: Record<string, number>;
  externalData?: string[];
  tokenizer?: { model: string; vocabSize: number; bosId?: number; eosId?: number; chatTemplate: boolean };
  eosIds?: number[];
  pooling?: PoolingConfig;
  /** Files and folders at the top of the folder (and in `onnx/`), with sizes. */
  files: { name: string; bytes: number }[];
}

function listFiles(dir: string): { name: string; bytes: number }[] {
  const out: { name: string; bytes: number }[] = [];
  for (const sub of ['', 'onnx']) {
    const d = join(dir, sub);
    if (!existsSync(d) || !statSync(d).isDirectory()) continue;
    for (const name of readdirSync(d).sort()) {
      const rel = sub ? `${sub}/${name}` : name;
      if (rel === 'onnx') continue;
      const st = statSync(join(d, name));
      out.push({ name: st.isDirectory() ? `${rel}/` : rel, bytes: st.isDirectory() ? 0 : st.size });
    }
  }
  return out;
}

/** Loads the folder as a worker would (without the digest check) and reports what it found. */
export function inspectModelFolder(folder: string, sel: OnnxSelection = {}): ModelFolderReport {
  const dir = resolve(folder);
  const exists = existsSync(dir) && statSync(dir).isDirectory();
  const base: ModelFolderReport = {
    dir,
    servable: false,
    variants: exists ? listOnnxVariants(dir) : [],
    files: exists ? listFiles(dir) : [],
  };
  let m: LoadedModel;
  try {
    m = loadModelFolder(dir, { ...sel, verifyDigest: false });
  } catch (err) {
    return { ...base, error: (err as Error).message };
  }
  const c = m.config as unknown as Record<string, unknown> & Partial<LlamaConfig>;
  const ioDtype =
    m.kind === 'encoder' || m.kvType === m.outputType
      ? m.outputType
      : `${m.kvType} KV, ${m.outputType} logits`;
  const arch = Array.isArray(c.architectures) ? c.architectures[0] : undefined;
  return {
    ...base,
    servable: true,
    layout: m.layout,
    onnxFile: m.onnxFile,
    dtype: m.dtype,
    kind: m.kind,
    architecture: typeof arch === 'string' ? arch : undefined,
    modelType: typeof c.model_type === 'string' ? c.model_type : undefined,
    layers: m.kind === 'decoder' ? c.num_hidden_layers : (c.num_hidden_layers as number | undefined),
    heads: c.num_attention_heads,
    kvHeads: m.kind === 'decoder' ? c.num_key_value_heads : undefined,
    headDim: m.kind === 'decoder' ? c.head_dim : undefined,
    hiddenSize: typeof c.hidden_size === 'number' ? c.hidden_size : undefined,
    vocabSize: m.config.vocab_size,
    contextLength: m.config.max_position_embeddings,
    ioDtype,
    weightDtypes: m.signature.weightTypes,
    externalData: m.signature.externalData,
    tokenizer: {
      model: m.tokenizer.model,
      vocabSize: m.tokenizer.vocabSize,
      bosId: m.tokenizer.bosId,
      eosId: m.tokenizer.eosId,
      chatTemplate: m.tokenizer.chatTemplate !== undefined,
    },
    eosIds: m.eosIds,
    pooling: m.kind === 'encoder' ? m.pooling : undefined,
  };
}
