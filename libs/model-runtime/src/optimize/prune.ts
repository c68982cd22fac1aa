import { readFileSync } from 'node:fs';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import {
  engineWeightsFromOnnx,
  EngineWeightsUnavailable,
  type EngineWeights,
} from '../engine/engine-weights';
import { writeDerivedFolder } from '../model/derived-folder';
import type { LlamaConfig, LlamaWeights } from '../model/model-config';
import { loadModelFolder } from '../model/model-loader';
import { buildLlamaGraph, llamaDims, transpose } from '../onnx/llama-graph';
import { readQuantSpec } from './graph-weights';

export interface PruneOptions {
  dir: string;
  out: string;
  /** Fraction of FFN channels to drop in every layer (0 ≤ f < 1). */
  ffn?: number;
  /** Fraction of KV groups (a KV head with its query heads) to drop in every layer. */
  heads?: number;
  /** Number of whole layers to drop. */
  layers?: number;
}

export interface PruneResult {
  out: string;
  digest: string;
  before: {
    intermediate_size: number;
    num_key_value_heads: number;
    num_hidden_layers: number;
    parameters: number;
  };
  after: {
    intermediate_size: number;
    num_key_value_heads: number;
    num_hidden_layers: number;
    parameters: number;
  };
  droppedLayers: number[];
}

type EngineLayer = EngineWeights['layers'][number];

/** L2 norm of column `c` of a row-major `[rows, cols]` matrix. */
function columnNorm(m: Float32Array, rows: number, cols: number, c: number): number {
  let s = 0;
  for (let r = 0; r < rows; r++) s += (m[r * cols + c] as number) ** 2;
  return Math.sqrt(s);
}

function rowNorm(m: Float32Array, cols: number, r: number): number {
  let s = 0;
  for (let c = 0; c < cols; c++) s += (m[r * cols + c] as number) ** 2;
  return Math.sqrt(s);
}

function frobenius(m: Float32Array): number {
  let s = 0;
  for (const v of m) s += v * v;
  return Math.sqrt(s);
}

/** The `keep` indices of `scores` with the largest scores, in their original order. */
function topIndices(scores: readonly number[], keep: number): number[] {
  return scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, keep)
    .map(([, i]) => i)
    .sort((a, b) => a - b);
}

/** Columns `cols` (in order) of a row-major `[rows, width]` matrix. */
function pickColumns(m: Float32Array, rows: number, width: number, cols: readonly number[]): Float32Array {
  const out = new Float32Array(rows * cols.length);
  for (let r = 0; r < rows; r++)
    cols.forEach((c, j) => (out[r * cols.length + j] = m[r * width + c] as number));
  return out;
}

function pickRows(m: Float32Array, width: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(m.subarray(r * width, (r + 1) * width), i * width));
  return out;
}

/**
 * FFN channel importance: ‖gate column‖·‖up column‖·‖down row‖ — the weight-magnitude bound of
 * how much the channel can add to the residual stream for a unit-norm input.
 */
function ffnChannels(l: EngineLayer, H: number, I: number, keep: number): number[] {
  const scores = Array.from(
    { length: I },
    (_, j) => columnNorm(l.gate, H, I, j) * columnNorm(l.up, H, I, j) * rowNorm(l.down, H, j),
  );
  return topIndices(scores, keep);
}

/**
 * KV-group importance: ‖K‖·‖V‖ of the group times ‖Q‖·‖O‖ of its query heads (Frobenius norms of
 * the group's slices), the same magnitude bound applied to attention.
 */
function kvGroups(l: EngineLayer, cfg: LlamaConfig, keep: number): number[] {
  const { H, NH, KVH, D, G } = llamaDims(cfg);
  const scores = Array.from({ length: KVH }, (_, g) => {
    const qCols = Array.from({ length: G * D }, (_, i) => g * G * D + i);
    const kvCols = Array.from({ length: D }, (_, i) => g * D + i);
    return (
      frobenius(pickColumns(l.q, H, NH * D, qCols)) *
      frobenius(pickColumns(l.k, H, KVH * D, kvCols)) *
      frobenius(pickColumns(l.v, H, KVH * D, kvCols)) *
      frobenius(pickRows(l.o, H, qCols))
    );
  });
  return topIndices(scores, keep);
}

/**
 * `hotpath models prune`: structured pruning of a Llama folder that really shrinks the matrices:
 * FFN channels, KV groups (with their query heads) and whole layers, chosen by weight-magnitude
 * importance (docs/optimization.md). The result is a normal float32 folder (then quantizable).
 */
export function pruneModelFolder(opts: PruneOptions): PruneResult {
  const bad = (param: string, msg: string): never => {
    throw new HotpathError(ErrorCode.InvalidInput, msg, param);
  };
  const ffn = opts.ffn ?? 0;
  const heads = opts.heads ?? 0;
  const dropLayers = opts.layers ?? 0;
  if (!(ffn >= 0 && ffn < 1)) bad('ffn', `--ffn must be a fraction in [0, 1), got ${ffn}`);
  if (!(heads >= 0 && heads < 1)) bad('heads', `--heads must be a fraction in [0, 1), got ${heads}`);
  if (ffn === 0 && heads === 0 && dropLayers === 0)
    bad('ffn', 'nothing to prune: give --ffn, --heads or --layers');
  const src = loadModelFolder(opts.dir);
  const fail = (msg: string): never => {
    throw new HotpathError(ErrorCode.InvalidModel, `model folder ${src.dir}: ${msg}`);
  };
  if (src.kind !== 'decoder' || src.config.model_type !== 'llama')
    fail('pruning supports Llama decoders only');
  const cfg = src.config as LlamaConfig;
  const bytes = readFileSync(src.onnxPath);
  if (readQuantSpec(bytes)) fail('the folder is quantized; prune the float folder, then quantize the result');
  let w: EngineWeights;
  try {
    w = engineWeightsFromOnnx(bytes, cfg);
  } catch (err) {
    if (err instanceof EngineWeightsUnavailable)
      return fail(
        `its graph was not written by Hotpath (${err.message}); pruning needs Hotpath's weight names`,
      );
    throw err;
  }
  const { H, NH, KVH, D, G, I, V } = llamaDims(cfg);
  if (!Number.isInteger(dropLayers) || dropLayers < 0 || dropLayers >= cfg.num_hidden_layers)
    bad('layers', `--layers must be an integer from 0 to ${cfg.num_hidden_layers - 1}, got ${dropLayers}`);
  // Multiples of 8 keep the GEMM kernels' vector widths full.
  const keepI = Math.max(8, Math.round(((1 - ffn) * I) / 8) * 8);
  const keepKv = Math.max(1, Math.round((1 - heads) * KVH));

  // Layer importance: how much a layer's two residual writes can move the stream.
  const layerScores = w.layers.map((l) => frobenius(l.o) + frobenius(l.down));
  const keptLayers = topIndices(layerScores, cfg.num_hidden_layers - dropLayers);
  const droppedLayers = w.layers.map((_, i) => i).filter((i) => !keptLayers.includes(i));

  const newCfg: LlamaConfig = {
    ...cfg,
    intermediate_size: keepI,
    num_key_value_heads: keepKv,
    num_attention_heads: keepKv * G,
    num_hidden_layers: keptLayers.length,
    head_dim: D,
  };
  const layers: LlamaWeights['layers'] = keptLayers.map((li) => {
    const l = w.layers[li] as EngineLayer;
    const ch = ffnChannels(l, H, I, keepI);
    const groups = kvGroups(l, cfg, keepKv);
    const qCols = groups.flatMap((g) => Array.from({ length: G * D }, (_, i) => g * G * D + i));
    const kvCols = groups.flatMap((g) => Array.from({ length: D }, (_, i) => g * D + i));
    // Engine weights are MatMul operands [in, out]; the graph builder takes PyTorch's [out, in].
    return {
      attnNorm: l.attnNorm,
      wq: transpose(pickColumns(l.q, H, NH * D, qCols), H, qCols.length),
      wk: transpose(pickColumns(l.k, H, KVH * D, kvCols), H, kvCols.length),
      wv: transpose(pickColumns(l.v, H, KVH * D, kvCols), H, kvCols.length),
      wo: transpose(pickRows(l.o, H, qCols), qCols.length, H),
      ffnNorm: l.ffnNorm,
      w1: transpose(pickColumns(l.gate, H, I, ch), H, keepI),
      w2: transpose(pickRows(l.down, H, ch), keepI, H),
      w3: transpose(pickColumns(l.up, H, I, ch), H, keepI),
    };
  });
  const weights: LlamaWeights = {
    embed: w.embed,
    layers,
    finalNorm: w.finalNorm,
    ...(w.head ? { lmHead: transpose(w.head, H, V) } : {}),
  };
  const params = (c: LlamaConfig): number => {
    const d = llamaDims(c);
    const perLayer = d.H * (d.NH + 2 * d.KVH) * d.D + d.NH * d.D * d.H + 3 * d.H * d.I + 2 * d.H;
    return d.V * d.H * (w.head ? 2 : 1) + c.num_hidden_layers * perLayer + d.H;
  };
  const spec = { ffn, heads, layers: dropLayers, score: 'weight-magnitude' };
  const digest = writeDerivedFolder(
    src,
    opts.out,
    buildLlamaGraph(newCfg, weights).parts(),
    { source: `prune:ffn=${ffn},heads=${heads},layers=${dropLayers}:${src.digest}`, pruning: spec },
    newCfg,
  );
  const dims = (c: LlamaConfig) => ({
    intermediate_size: c.intermediate_size,
    num_key_value_heads: c.num_key_value_heads,
    num_hidden_layers: c.num_hidden_layers,
    parameters: params(c),
  });
  return { out: opts.out, digest, before: dims(cfg), after: dims(newCfg), droppedLayers };
}
