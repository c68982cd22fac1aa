import { llamaConfig, type LlamaConfig, type LlamaWeights } from '../model/model-config';
import { writeModelFolder } from '../model/model-folder';
import { buildLlamaGraph } from '../onnx/llama-graph';
import { buildTokenizerConfig, buildTokenizerJson, type TokenizerSpec } from '@hotpath/tokenizer';
import { permuteForRotateHalf, readLlama2cCheckpoint, readLlama2cTokenizer } from './llama2c-reader';

/** Options of {@link importLlama2c}. */
export interface ImportLlama2cOptions {
  checkpoint: string;
  tokenizer: string;
  out: string;
}

/** What {@link importLlama2c} produced. */
export interface ImportLlama2cResult {
  dir: string;
  digest: string;
  config: LlamaConfig;
}

/**
 * The Hugging Face tokenizer equivalent of a llama2.c `tokenizer.bin`: ids kept, special pieces
 * renamed `<unk>`/`<s>`/`</s>`, merges ordered by piece score (best first, lower id on a tie).
 */
export function llama2cTokenizerSpec(pieces: readonly { piece: string; score: number }[]): TokenizerSpec {
  const names = pieces.map((p, id) => (id === 0 ? '<unk>' : id === 1 ? '<s>' : id === 2 ? '</s>' : p.piece));
  const learned = names
    .map((_, id) => id)
    .filter((id) => id >= 3 && !/^<0x[0-9A-F]{2}>$/.test(names[id] as string));
  learned.sort((a, b) => (pieces[b]?.score ?? 0) - (pieces[a]?.score ?? 0) || a - b);
  return { pieces: names, unkId: 0, bosId: 1, eosId: 2, mergeOrder: learned };
}

/**
 * Converts a llama2.c checkpoint + tokenizer into a model folder. The interleaved RoPE pairs of
 * llama2.c become rotate-half by permuting wq/wk rows; the model marks story ends with BOS, so
 * `generation_config.json` lists `eos_token_id: [1, 2]`.
 */
export function importLlama2c(opts: ImportLlama2cOptions): ImportLlama2cResult {
  const { header: h, weights } = readLlama2cCheckpoint(opts.checkpoint);
  const head = h.dim / h.nHeads;
  const permuted: LlamaWeights = {
    ...weights,
    layers: weights.layers.map((l) => ({
      ...l,
      wq: permuteForRotateHalf(l.wq, h.nHeads, head, h.dim),
      wk: permuteForRotateHalf(l.wk, h.nKvHeads, head, h.dim),
    })),
  };
  const config = llamaConfig({
    hidden_size: h.dim,
    intermediate_size: h.hiddenDim,
    num_hidden_layers: h.nLayers,
    num_attention_heads: h.nHeads,
    num_key_value_heads: h.nKvHeads,
    head_dim: head,
    vocab_size: h.vocabSize,
    max_position_embeddings: h.seqLen,
    tie_word_embeddings: h.sharedClassifier,
  });
  const spec = llama2cTokenizerSpec(readLlama2cTokenizer(opts.tokenizer, h.vocabSize));
  const digest = writeModelFolder(opts.out, {
    onnx: buildLlamaGraph(config, permuted),
    config,
    generationConfig: {
      bos_token_id: 1,
      eos_token_id: [1, 2],
      pad_token_id: 0,
      do_sample: false,
      max_new_tokens: 256,
    },
    tokenizer: buildTokenizerJson(spec),
    tokenizerConfig: buildTokenizerConfig(spec, h.seqLen),
    hotpath: { task: 'generate', source: 'llama2c' },
  });
  return { dir: opts.out, digest, config };
}
