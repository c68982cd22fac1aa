import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { inspectOnnx, type OnnxSignature, type OnnxValueInfo } from '../onnx/onnx-inspect';
import { TextTokenizer } from '../tokenizer/text-tokenizer';
import type {
  BertConfig,
  GenerationConfigJson,
  HotpathJson,
  LlamaConfig,
  ModelConfigJson,
} from './model-config';
import { computeModelDigest, readFolderJson } from './model-folder';

/** A validated model folder, ready for a session. */
export interface LoadedModel {
  dir: string;
  kind: 'decoder' | 'encoder';
  config: ModelConfigJson;
  generationConfig: GenerationConfigJson;
  hotpath: HotpathJson | undefined;
  /** Content digest of the files (identifies the model version). */
  digest: string;
  signature: OnnxSignature;
  tokenizer: TextTokenizer;
  /** Ids that end a generation (from generation_config.json, else config.json). */
  eosIds: number[];
  onnxPath: string;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;
const PRESENT = /^present\.(\d+)\.(key|value)$/;

function requirePositiveInts(dir: string, cfg: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of keys) {
    const v = cfg[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new HotpathError(
        ErrorCode.InvalidModel,
        `model folder ${dir}: config.json ${k} must be a positive integer, got ${JSON.stringify(v)}`,
      );
    }
  }
}

function layerIndexes(values: readonly OnnxValueInfo[], re: RegExp): Set<number> {
  const idx = new Set<number>();
  for (const v of values) {
    const m = re.exec(v.name);
    if (m) idx.add(Number(m[1]));
  }
  return idx;
}

/**
 * Loads and validates a model folder (SPEC §6). Every problem is a `HotpathError` with code
 * `invalid_model` whose message names the folder and the exact problem: a missing file, a corrupt
 * `model.onnx`, a `config.json` that contradicts the graph (layer count vs `past_key_values.*`,
 * `vocab_size` vs `logits`, KV heads, head size, hidden size), a tokenizer larger than the
 * vocabulary, or a digest that no longer matches `hotpath.json`.
 */
export function loadModelFolder(folder: string, opts: { verifyDigest?: boolean } = {}): LoadedModel {
  const dir = resolve(folder);
  const fail = (msg: string): never => {
    throw new HotpathError(ErrorCode.InvalidModel, `model folder ${dir}: ${msg}`);
  };
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail('does not exist or is not a directory');
  for (const f of ['model.onnx', 'config.json', 'tokenizer.json'])
    if (!existsSync(join(dir, f))) fail(`missing ${f}`);
  const config = readFolderJson<ModelConfigJson>(dir, 'config.json', true) as ModelConfigJson;
  if (config.model_type !== 'llama' && config.model_type !== 'bert') {
    fail(
      `config.json model_type ${JSON.stringify((config as { model_type?: unknown }).model_type)} is not supported (llama, bert)`,
    );
  }
  const kind = config.model_type === 'llama' ? 'decoder' : 'encoder';
  const cfgRecord = config as unknown as Record<string, unknown>;
  requirePositiveInts(dir, cfgRecord, [
    'hidden_size',
    'num_hidden_layers',
    'num_attention_heads',
    'vocab_size',
    'max_position_embeddings',
  ]);
  if (kind === 'decoder') {
    const c = config as LlamaConfig;
    c.num_key_value_heads ??= c.num_attention_heads;
    c.head_dim ??= c.hidden_size / c.num_attention_heads;
    requirePositiveInts(dir, cfgRecord, ['num_key_value_heads', 'head_dim']);
  }
  const generationConfig =
    readFolderJson<GenerationConfigJson>(dir, 'generation_config.json', kind === 'decoder') ??
    ({ eos_token_id: [] } as GenerationConfigJson);
  const hotpath = readFolderJson<HotpathJson>(dir, 'hotpath.json', false);

  let signature: OnnxSignature = { opset: 0, inputs: [], outputs: [] };
  try {
    signature = inspectOnnx(readFileSync(join(dir, 'model.onnx')));
  } catch (err) {
    fail(`model.onnx is not a valid ONNX model (${(err as Error).message})`);
  }
  const inputs = new Map(signature.inputs.map((v) => [v.name, v]));
  const outputs = new Map(signature.outputs.map((v) => [v.name, v]));
  const dimMismatch = (
    where: string,
    v: OnnxValueInfo | undefined,
    axis: number,
    expected: number,
    key: string,
  ): void => {
    const d = v?.shape[axis];
    if (typeof d === 'number' && d !== expected)
      fail(`config.json ${key}=${expected} but model.onnx ${where} has ${d} on axis ${axis}`);
  };

  if (kind === 'decoder') {
    const c = config as LlamaConfig;
    for (const name of ['input_ids', 'attention_mask'])
      if (!inputs.has(name)) fail(`model.onnx has no input ${name}`);
    if (!outputs.has('logits')) fail('model.onnx has no output logits');
    const past = layerIndexes(signature.inputs, PAST);
    const present = layerIndexes(signature.outputs, PRESENT);
    if (past.size !== c.num_hidden_layers) {
      fail(
        `config.json num_hidden_layers=${c.num_hidden_layers} but model.onnx has ${past.size} past_key_values.*.key/value input layers`,
      );
    }
    if (present.size !== c.num_hidden_layers) {
      fail(
        `config.json num_hidden_layers=${c.num_hidden_layers} but model.onnx has ${present.size} present.*.key/value output layers`,
      );
    }
    for (let i = 0; i < c.num_hidden_layers; i++) {
      for (const kv of ['key', 'value']) {
        const p = inputs.get(`past_key_values.${i}.${kv}`);
        if (!p) fail(`model.onnx has no input past_key_values.${i}.${kv}`);
        if (!outputs.has(`present.${i}.${kv}`)) fail(`model.onnx has no output present.${i}.${kv}`);
        dimMismatch(`past_key_values.${i}.${kv}`, p, 1, c.num_key_value_heads, 'num_key_value_heads');
        dimMismatch(`past_key_values.${i}.${kv}`, p, 3, c.head_dim, 'head_dim');
      }
    }
    dimMismatch('logits', outputs.get('logits'), 2, c.vocab_size, 'vocab_size');
  } else {
    const c = config as BertConfig;
    for (const name of ['input_ids', 'attention_mask'])
      if (!inputs.has(name)) fail(`model.onnx has no input ${name}`);
    if (!outputs.has('last_hidden_state')) fail('model.onnx has no output last_hidden_state');
    dimMismatch('last_hidden_state', outputs.get('last_hidden_state'), 2, c.hidden_size, 'hidden_size');
  }

  let tokenizer: TextTokenizer | undefined;
  try {
    tokenizer = TextTokenizer.fromJson(
      readFolderJson<unknown>(dir, 'tokenizer.json', true),
      readFolderJson<Record<string, unknown>>(dir, 'tokenizer_config.json', false) ?? {},
    );
  } catch (err) {
    if (err instanceof HotpathError) throw err;
    fail(`tokenizer.json is not a usable tokenizer (${(err as Error).message})`);
  }
  const tok = tokenizer as TextTokenizer;
  if (tok.vocabSize > config.vocab_size)
    fail(`tokenizer.json has ${tok.vocabSize} tokens but config.json vocab_size=${config.vocab_size}`);

  const digest = computeModelDigest(dir);
  if (opts.verifyDigest !== false && hotpath?.digest && hotpath.digest !== digest) {
    fail(
      `content digest ${digest} does not match hotpath.json digest ${hotpath.digest} (files changed or corrupt)`,
    );
  }
  const eosRaw = generationConfig.eos_token_id ?? (config as LlamaConfig).eos_token_id;
  const eosIds = (Array.isArray(eosRaw) ? eosRaw : eosRaw === undefined ? [] : [eosRaw]).filter((n) =>
    Number.isInteger(n),
  );
  return {
    dir,
    kind,
    config,
    generationConfig,
    hotpath,
    digest,
    signature,
    tokenizer: tok,
    eosIds,
    onnxPath: join(dir, 'model.onnx'),
  };
}
