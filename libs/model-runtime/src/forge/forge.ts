import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import {
  llamaConfig,
  type BertConfig,
  type BertWeights,
  type LlamaConfig,
  type LlamaWeights,
} from '../model/model-config';
import { writeModelFolder } from '../model/model-folder';
import { buildBertGraph } from '../onnx/bert-graph';
import { buildLlamaGraph } from '../onnx/llama-graph';
import { TextTokenizer, buildTokenizerConfig, buildTokenizerJson } from '@hotpath/tokenizer';
import { forgedTokenizerSpec } from './forge-tokenizer';
import { FORGE_PRESETS, isForgePreset, type BertPreset, type LlamaPreset } from './forge-presets';
import { Prng } from './prng';

/** Options of {@link forgeModel}. */
export interface ForgeOptions {
  arch: 'llama' | 'bert';
  preset: string;
  seed: number;
  out: string;
  /**
   * A real `tokenizer.json` to forge around (its `tokenizer_config.json`, when beside it, comes
   * along): the vocabulary is sized to it and BOS/EOS/PAD ids come from it, so a deployment can be
   * smoke-tested with its real model's exact tokenizer without the weights.
   */
  tokenizer?: string;
  /** Progress in [0, 1] with a stage label (for a TTY progress bar). */
  onProgress?: (fraction: number, stage: string) => void;
}

/** What {@link forgeModel} produced. */
export interface ForgeResult {
  dir: string;
  digest: string;
  parameters: number;
}

/** Fills weights from one seeded stream, so a seed fixes every value in order of creation. */
class WeightFactory {
  private readonly rng: Prng;
  count = 0;

  constructor(seed: number) {
    this.rng = new Prng(seed);
  }

  normal(n: number, std: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.rng.normal() * std;
    this.count += n;
    return a;
  }

  /** Around `center` with a small spread (norm gains), so layers differ. */
  near(n: number, center: number, spread: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = center + (this.rng.next() * 2 - 1) * spread;
    this.count += n;
    return a;
  }
}

/** Deterministic decoder weights and config for a preset (PyTorch layout, rotate-half RoPE). */
export function forgeLlamaWeights(
  p: LlamaPreset,
  seed: number,
  progress: (f: number, s: string) => void = () => undefined,
): { config: LlamaConfig; weights: LlamaWeights; count: number } {
  const f = new WeightFactory(seed);
  const D = p.hidden / p.heads;
  const inStd = 1 / Math.sqrt(p.hidden);
  // Output projections as large as the residual itself: with tied embeddings a weak residual
  // update makes every forged model repeat its input token forever.
  const outStd = 2.5 / Math.sqrt(p.hidden);
  const embed = f.normal(p.vocab * p.hidden, 1);
  const layers: LlamaWeights['layers'] = [];
  for (let l = 0; l < p.layers; l++) {
    progress(l / p.layers, `layer ${l + 1}/${p.layers}`);
    layers.push({
      attnNorm: f.near(p.hidden, 1, 0.1),
      wq: f.normal(p.heads * D * p.hidden, inStd * 2),
      wk: f.normal(p.kvHeads * D * p.hidden, inStd * 2),
      wv: f.normal(p.kvHeads * D * p.hidden, inStd),
      wo: f.normal(p.hidden * p.heads * D, outStd),
      ffnNorm: f.near(p.hidden, 1, 0.1),
      w1: f.normal(p.intermediate * p.hidden, inStd),
      w2: f.normal(p.hidden * p.intermediate, outStd * Math.sqrt(p.hidden / p.intermediate)),
      w3: f.normal(p.intermediate * p.hidden, inStd),
    });
  }
  // A small final gain keeps logits around ±5, so float32 rounding stays far below 1e-4.
  const weights: LlamaWeights = { embed, layers, finalNorm: f.near(p.hidden, 0.3, 0.03) };
  if (!p.tied) weights.lmHead = f.normal(p.vocab * p.hidden, 1);
  const config = llamaConfig({
    hidden_size: p.hidden,
    intermediate_size: p.intermediate,
    num_hidden_layers: p.layers,
    num_attention_heads: p.heads,
    num_key_value_heads: p.kvHeads,
    head_dim: D,
    vocab_size: p.vocab,
    max_position_embeddings: p.maxPositions,
    tie_word_embeddings: p.tied,
  });
  return { config, weights, count: f.count };
}

/** Deterministic encoder weights and config for a preset. */
export function forgeBertWeights(
  p: BertPreset,
  seed: number,
): { config: BertConfig; weights: BertWeights; count: number } {
  const f = new WeightFactory(seed);
  const H = p.hidden;
  const I = p.intermediate;
  const std = 0.05;
  const weights: BertWeights = {
    wordEmb: f.normal(p.vocab * H, std * 10),
    posEmb: f.normal(p.maxPositions * H, std),
    typeEmb: f.normal(2 * H, std),
    embLnG: f.near(H, 1, 0.1),
    embLnB: f.normal(H, std),
    layers: Array.from({ length: p.layers }, () => ({
      wq: f.normal(H * H, std),
      bq: f.normal(H, std),
      wk: f.normal(H * H, std),
      bk: f.normal(H, std),
      wv: f.normal(H * H, std),
      bv: f.normal(H, std),
      wo: f.normal(H * H, std),
      bo: f.normal(H, std),
      ln1G: f.near(H, 1, 0.1),
      ln1B: f.normal(H, std),
      w1: f.normal(I * H, std),
      b1: f.normal(I, std),
      w2: f.normal(H * I, std),
      b2: f.normal(H, std),
      ln2G: f.near(H, 1, 0.1),
      ln2B: f.normal(H, std),
    })),
  };
  const config: BertConfig = {
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: H,
    intermediate_size: I,
    num_hidden_layers: p.layers,
    num_attention_heads: p.heads,
    vocab_size: p.vocab,
    max_position_embeddings: p.maxPositions,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    hidden_act: 'gelu',
    pad_token_id: 0,
    torch_dtype: 'float32',
  };
  return { config, weights, count: f.count };
}

/** The tokenizer files of a forged folder, its vocabulary size and its special ids. */
interface ForgeTokenizer {
  tokenizer: unknown;
  tokenizerConfig: Record<string, unknown>;
  vocab: number;
  ids: { bos: number; eos: number; pad: number };
}

function forgedTokenizer(vocab: number, maxPositions: number): ForgeTokenizer {
  const spec = forgedTokenizerSpec(vocab);
  return {
    tokenizer: buildTokenizerJson(spec),
    tokenizerConfig: buildTokenizerConfig(spec, maxPositions),
    vocab,
    ids: { bos: spec.bosId, eos: spec.eosId, pad: spec.unkId },
  };
}

function realTokenizer(path: string): ForgeTokenizer {
  const bad = (msg: string): never => {
    throw new HotpathError(ErrorCode.InvalidInput, `--tokenizer ${path}: ${msg}`, 'tokenizer');
  };
  if (!existsSync(path)) bad('does not exist');
  const cfgPath = join(dirname(path), 'tokenizer_config.json');
  let tokenizer: unknown;
  let tokenizerConfig: Record<string, unknown> = {};
  let tok: TextTokenizer | undefined;
  try {
    tokenizer = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (existsSync(cfgPath))
      tokenizerConfig = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    tok = TextTokenizer.fromJson(tokenizer, tokenizerConfig);
  } catch (err) {
    bad(`not a usable tokenizer (${(err as Error).message})`);
  }
  const t = tok as TextTokenizer;
  // A model needs a stop id; tokenizers without eos_token (rare) fall back to their BOS or id 0.
  const eos = t.eosId ?? t.bosId ?? 0;
  return {
    tokenizer,
    tokenizerConfig,
    vocab: t.vocabSize,
    ids: { bos: t.bosId ?? eos, eos, pad: t.padId ?? eos },
  };
}

/**
 * Writes a synthetic model folder with deterministic weights: the same arch, preset and seed
 * always give byte-identical files (hence the same digest).
 */
export function forgeModel(opts: ForgeOptions): ForgeResult {
  if (!isForgePreset(opts.preset)) {
    throw new HotpathError(
      ErrorCode.InvalidInput,
      `unknown forge preset "${opts.preset}" (${Object.keys(FORGE_PRESETS).join(', ')})`,
      'preset',
    );
  }
  const preset = FORGE_PRESETS[opts.preset];
  if (preset.arch !== opts.arch) {
    throw new HotpathError(
      ErrorCode.InvalidInput,
      `preset "${opts.preset}" is a ${preset.arch} model, not ${opts.arch}`,
      'preset',
    );
  }
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff) {
    throw new HotpathError(ErrorCode.InvalidInput, `seed must be an integer in 0..4294967295`, 'seed');
  }
  const progress = opts.onProgress ?? ((): void => undefined);
  const tok =
    opts.tokenizer === undefined
      ? forgedTokenizer(preset.vocab, preset.maxPositions)
      : realTokenizer(opts.tokenizer);
  const { tokenizer, tokenizerConfig, ids } = tok;
  const source = `forge:${opts.arch}/${opts.preset}/seed=${opts.seed}${opts.tokenizer ? `/tokenizer=${tok.vocab}` : ''}`;
  let digest: string;
  let parameters: number;
  if (preset.arch === 'llama') {
    const { config, weights, count } = forgeLlamaWeights({ ...preset, vocab: tok.vocab }, opts.seed, (f, s) =>
      progress(f * 0.7, s),
    );
    config.bos_token_id = ids.bos;
    config.eos_token_id = ids.eos;
    config.pad_token_id = ids.pad;
    progress(0.7, 'building graph');
    const onnx = buildLlamaGraph(config, weights);
    progress(0.85, 'writing files');
    digest = writeModelFolder(opts.out, {
      onnx,
      config,
      generationConfig: {
        bos_token_id: ids.bos,
        eos_token_id: [ids.eos],
        pad_token_id: ids.pad,
        do_sample: false,
        max_new_tokens: 64,
      },
      tokenizer,
      tokenizerConfig,
      hotpath: { task: 'generate', source },
    });
    parameters = count;
  } else {
    const { config, weights, count } = forgeBertWeights({ ...preset, vocab: tok.vocab }, opts.seed);
    config.pad_token_id = ids.pad;
    progress(0.7, 'building graph');
    const onnx = buildBertGraph(config, weights);
    digest = writeModelFolder(opts.out, {
      onnx,
      config,
      tokenizer,
      tokenizerConfig,
      hotpath: { task: 'embed', source },
    });
    parameters = count;
  }
  progress(1, 'done');
  return { dir: opts.out, digest, parameters };
}
