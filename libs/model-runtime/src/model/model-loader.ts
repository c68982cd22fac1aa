import { existsSync, readFileSync, statSync } from 'node:fs';
import type { KvElementType } from '../batching/kv-block';
import { dirname, join, resolve } from 'node:path';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { inspectOnnx, onnxTypeName, type OnnxSignature, type OnnxValueInfo } from '../onnx/onnx-inspect';
import { TextTokenizer } from '@hotpath/tokenizer';
import type {
  BertConfig,
  GenerationConfigJson,
  HotpathJson,
  LlamaConfig,
  ModelConfigJson,
} from './model-config';
import { computeModelDigest, readFolderJson } from './model-folder';
import { selectOnnxVariant, type FolderLayout, type OnnxDtype, type OnnxSelection } from './model-layout';
import { DEFAULT_POOLING, readPooling, type PoolingConfig } from './pooling';

/** A validated model folder, ready for a session. */
export interface LoadedModel {
  dir: string;
  kind: 'decoder' | 'encoder';
  /**
   * `config.json`, with the fields the runtime reads filled in from the graph where the file names
   * them differently or not at all: `num_hidden_layers`, `num_key_value_heads`, `head_dim`,
   * `vocab_size`, `max_position_embeddings`.
   */
  config: ModelConfigJson;
  generationConfig: GenerationConfigJson;
  hotpath: HotpathJson | undefined;
  /** Content digest of the files (identifies the model version). */
  digest: string;
  signature: OnnxSignature;
  tokenizer: TextTokenizer;
  /** Ids that end a generation (from generation_config.json, else config.json, else the tokenizer). */
  eosIds: number[];
  onnxPath: string;
  /** Which folder layout the graph came from. */
  layout: FolderLayout;
  /** The graph's file, relative to `dir` (e.g. `onnx/model_q4.onnx`). */
  onnxFile: string;
  /** The variant's dtype name (file suffix), fp32 for `model.onnx`. */
  dtype: OnnxDtype;
  /** Encoders: how token vectors become one embedding (sentence-transformers files, else mean + L2). */
  pooling: PoolingConfig;
  /** The graph takes `use_cache_branch` (an Optimum merged decoder). */
  usesCacheBranch: boolean;
  /** Decoders: the element type of every `past_key_values.*` input and `present.*` output. */
  kvType: KvElementType;
  /** The element type of `logits` (decoders) or of the token vectors (encoders). */
  outputType: KvElementType;
}

/** Options of {@link loadModelFolder}. */
export interface LoadOptions extends OnnxSelection {
  verifyDigest?: boolean;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;
const PRESENT = /^present\.(\d+)\.(key|value)$/;
/** Decoder inputs the runtime knows how to feed. */
const DECODER_INPUTS = new Set(['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch']);
const ENCODER_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids']);
/** Encoder outputs holding one vector per token, in preference order. */
export const TOKEN_VECTOR_OUTPUTS = ['last_hidden_state', 'token_embeddings'] as const;
/** ONNX element types of the float tensors the runtime exchanges with a graph. */
const FLOAT_TYPES: Readonly<Record<number, KvElementType>> = { 1: 'float32', 10: 'float16' };

function layerIndexes(values: readonly OnnxValueInfo[], re: RegExp): Set<number> {
  const idx = new Set<number>();
  for (const v of values) {
    const m = re.exec(v.name);
    if (m) idx.add(Number(m[1]));
  }
  return idx;
}

/** The first of `keys` that `cfg` sets to a positive integer. */
function firstInt(cfg: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const v = cfg[k];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

/**
 * Loads and validates a model folder in any supported layout (see `model-layout.ts`). Every
 * problem is a `HotpathError` with code `invalid_model` whose message names the folder, the file
 * and the field: a missing file, a corrupt graph, a `config.json` that contradicts the graph
 * (layers vs `past_key_values.*`, `vocab_size` vs `logits`, KV heads, head size, hidden size), a
 * graph input the runtime cannot feed, a KV cache or output neither float32 nor float16 (or a KV
 * cache mixing the two), an unsupported tokenizer or pooling, a tokenizer larger than the
 * vocabulary, or a digest that no longer matches `hotpath.json`.
 */
export function loadModelFolder(folder: string, opts: LoadOptions = {}): LoadedModel {
  const dir = resolve(folder);
  const fail = (msg: string): never => {
    throw new HotpathError(ErrorCode.InvalidModel, `model folder ${dir}: ${msg}`);
  };
  const attempt = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof HotpathError) throw err;
      return fail((err as Error).message);
    }
  };
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail('does not exist or is not a directory');
  const variant = attempt(() => selectOnnxVariant(dir, opts));
  const file = variant.file;
  for (const f of ['config.json', 'tokenizer.json']) if (!existsSync(join(dir, f))) fail(`missing ${f}`);
  const config = readFolderJson<ModelConfigJson>(dir, 'config.json', true) as ModelConfigJson;
  const cfg = config as unknown as Record<string, unknown>;
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) fail('config.json is not a JSON object');
  const hotpath = readFolderJson<HotpathJson>(dir, 'hotpath.json', false);

  let signature: OnnxSignature = { opset: 0, nodes: 0, inputs: [], outputs: [] };
  try {
    signature = inspectOnnx(readFileSync(join(dir, file)));
  } catch (err) {
    fail(`${file} is not a valid ONNX model (${(err as Error).message})`);
  }
  const externalFiles = (signature.externalData ?? []).map((x) => join(dirname(file), x));
  for (const x of externalFiles)
    if (!existsSync(join(dir, x))) fail(`${file} keeps its weights in ${x}, which is missing`);
  const inputs = new Map(signature.inputs.map((v) => [v.name, v]));
  const outputs = new Map(signature.outputs.map((v) => [v.name, v]));
  const dimMismatch = (where: string, v: OnnxValueInfo | undefined, axis: number, key: string): void => {
    const d = v?.shape[axis];
    const expected = cfg[key];
    if (typeof d === 'number' && typeof expected === 'number' && d !== expected)
      fail(`config.json ${key}=${expected} but ${file} ${where} has ${d} on axis ${axis}`);
  };
  /** The float element type of a KV tensor or output; anything else is refused by name. */
  const floatType = (where: string, v: OnnxValueInfo | undefined): KvElementType => {
    const t = v ? FLOAT_TYPES[v.elemType] : 'float32';
    return (
      t ??
      fail(
        `${file} ${where} is ${onnxTypeName((v as OnnxValueInfo).elemType)}; KV caches, logits and token vectors must be float32 or float16`,
      )
    );
  };
  let kvType: KvElementType = 'float32';
  let outputType: KvElementType = 'float32';

  const kind: LoadedModel['kind'] = outputs.has('logits')
    ? 'decoder'
    : TOKEN_VECTOR_OUTPUTS.some((o) => outputs.has(o))
      ? 'encoder'
      : fail(
          `${file} has neither a logits output (a decoder) nor a last_hidden_state/token_embeddings output (an encoder); outputs: ${[...outputs.keys()].join(', ')}`,
        );
  for (const name of ['input_ids', 'attention_mask'])
    if (!inputs.has(name)) fail(`${file} has no input ${name}`);

  if (kind === 'decoder') {
    for (const name of inputs.keys())
      if (!DECODER_INPUTS.has(name) && !PAST.test(name))
        fail(
          `${file} input ${name} is not supported (a decoder takes ${[...DECODER_INPUTS].join(', ')}, past_key_values.*)`,
        );
    const past = layerIndexes(signature.inputs, PAST);
    const present = layerIndexes(signature.outputs, PRESENT);
    if (past.size === 0)
      fail(
        `${file} has no past_key_values.* inputs; export the decoder with its KV cache (text-generation-with-past)`,
      );
    const layers = firstInt(cfg, ['num_hidden_layers']);
    if (layers !== undefined && past.size !== layers)
      fail(
        `config.json num_hidden_layers=${layers} but ${file} has ${past.size} past_key_values.*.key/value input layers`,
      );
    if (present.size !== past.size)
      fail(
        `${file} has ${past.size} past_key_values.* input layers but ${present.size} present.* output layers`,
      );
    const k0 = inputs.get('past_key_values.0.key');
    if (!k0 || k0.shape.length !== 4)
      fail(`${file} past_key_values.0.key must be [batch, kv_heads, past_length, head_dim]`);
    kvType = floatType('past_key_values.0.key', k0);
    for (let i = 0; i < past.size; i++) {
      for (const kv of ['key', 'value']) {
        const p = inputs.get(`past_key_values.${i}.${kv}`);
        if (!p) fail(`${file} has no input past_key_values.${i}.${kv}`);
        const present = outputs.get(`present.${i}.${kv}`);
        if (!present) fail(`${file} has no output present.${i}.${kv}`);
        // One element type throughout: each step's present tensors are fed back as the next past.
        for (const [where, v] of [
          [`past_key_values.${i}.${kv}`, p],
          [`present.${i}.${kv}`, present],
        ] as const) {
          const t = floatType(where, v);
          if (t !== kvType)
            fail(
              `${file} ${where} is ${t} but past_key_values.0.key is ${kvType}; a KV cache has one element type`,
            );
        }
        dimMismatch(`past_key_values.${i}.${kv}`, p, 1, 'num_key_value_heads');
        dimMismatch(`past_key_values.${i}.${kv}`, p, 3, 'head_dim');
      }
    }
    outputType = floatType('logits', outputs.get('logits'));
    dimMismatch('logits', outputs.get('logits'), 2, 'vocab_size');
    // The graph's KV shape is the truth; config.json names (n_head, n_layer, …) vary by family.
    const heads = firstInt(cfg, ['num_attention_heads', 'n_head', 'num_heads']);
    const hidden = firstInt(cfg, ['hidden_size', 'n_embd', 'd_model']);
    const kvHeads = (k0 as OnnxValueInfo).shape[1];
    const headDim = (k0 as OnnxValueInfo).shape[3];
    const c = config as LlamaConfig;
    c.num_hidden_layers = past.size;
    c.num_key_value_heads =
      typeof kvHeads === 'number' ? kvHeads : (firstInt(cfg, ['num_key_value_heads']) ?? heads ?? 0);
    c.head_dim =
      typeof headDim === 'number'
        ? headDim
        : (firstInt(cfg, ['head_dim']) ?? (hidden && heads ? hidden / heads : 0));
    if (!Number.isInteger(c.num_key_value_heads) || c.num_key_value_heads <= 0)
      fail(
        `${file} past_key_values.0.key has a symbolic kv_heads axis and config.json sets no num_key_value_heads`,
      );
    if (!Number.isInteger(c.head_dim) || c.head_dim <= 0)
      fail(`${file} past_key_values.0.key has a symbolic head_dim axis and config.json sets no head_dim`);
    c.num_attention_heads ??= heads ?? c.num_key_value_heads;
  } else {
    for (const name of inputs.keys())
      if (!ENCODER_INPUTS.has(name))
        fail(`${file} input ${name} is not supported (an encoder takes ${[...ENCODER_INPUTS].join(', ')})`);
    const out = TOKEN_VECTOR_OUTPUTS.map((o) => outputs.get(o)).find((o) => o !== undefined);
    outputType = floatType(out?.name ?? 'last_hidden_state', out);
    dimMismatch(out?.name ?? 'last_hidden_state', out, 2, 'hidden_size');
  }

  const tokenizerConfig = readFolderJson<Record<string, unknown>>(dir, 'tokenizer_config.json', false) ?? {};
  const tok = attempt(() => {
    try {
      return TextTokenizer.fromJson(readFolderJson<unknown>(dir, 'tokenizer.json', true), tokenizerConfig);
    } catch (err) {
      if (err instanceof HotpathError) throw err;
      throw new Error(`tokenizer.json is not a usable tokenizer (${(err as Error).message})`);
    }
  });
  const logitsVocab = outputs.get('logits')?.shape[2];
  const vocab =
    firstInt(cfg, ['vocab_size', 'n_vocab', 'padded_vocab_size']) ??
    (typeof logitsVocab === 'number' ? logitsVocab : undefined) ??
    fail('config.json sets no vocab_size');
  cfg.vocab_size = vocab;
  if (tok.vocabSize > vocab)
    fail(`tokenizer.json has ${tok.vocabSize} tokens but config.json vocab_size=${vocab}`);
  cfg.max_position_embeddings =
    firstInt(cfg, ['max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length', 'n_ctx']) ??
    tok.maxLength ??
    fail(
      'config.json sets no context length (max_position_embeddings or n_positions) and tokenizer_config.json no model_max_length',
    );

  const generationConfig =
    readFolderJson<GenerationConfigJson>(dir, 'generation_config.json', false) ??
    ({ eos_token_id: [] } as GenerationConfigJson);
  const asIds = (raw: unknown): number[] =>
    (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw]).filter((n): n is number =>
      Number.isInteger(n),
    );
  let eosIds = asIds(generationConfig.eos_token_id);
  if (eosIds.length === 0) eosIds = asIds(cfg.eos_token_id);
  if (eosIds.length === 0 && tok.eosId !== undefined) eosIds = [tok.eosId];
  if (kind === 'decoder' && eosIds.length === 0) {
    fail(
      'no end-of-sequence id: generation_config.json eos_token_id, config.json eos_token_id and tokenizer_config.json eos_token are all unset',
    );
  }
  const pooling = kind === 'encoder' ? attempt(() => readPooling(dir)) : DEFAULT_POOLING;

  const digest = computeModelDigest(dir, [file, ...externalFiles]);
  if (opts.verifyDigest !== false && hotpath?.digest && hotpath.digest !== digest) {
    fail(
      `content digest ${digest} does not match hotpath.json digest ${hotpath.digest} (files changed or corrupt)`,
    );
  }
  return {
    dir,
    kind,
    config: config as LlamaConfig | BertConfig,
    generationConfig,
    hotpath,
    digest,
    signature,
    tokenizer: tok,
    eosIds,
    onnxPath: join(dir, file),
    layout: variant.layout,
    onnxFile: file,
    dtype: variant.dtype,
    pooling,
    usesCacheBranch: inputs.has('use_cache_branch'),
    kvType,
    outputType,
  };
}
