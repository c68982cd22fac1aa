/** `config.json` of a Llama-style decoder (Hugging Face `LlamaConfig` field names). */
export interface LlamaConfig {
  model_type: 'llama';
  architectures: string[];
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  hidden_act: 'silu';
  bos_token_id: number;
  eos_token_id: number | number[];
  pad_token_id?: number;
  tie_word_embeddings: boolean;
  attention_bias: false;
  mlp_bias: false;
  torch_dtype: 'float32';
  use_cache: true;
}

/** The dimensions that tell one Llama decoder from another; everything else is fixed. */
export type LlamaDims = Pick<
  LlamaConfig,
  | 'hidden_size'
  | 'intermediate_size'
  | 'num_hidden_layers'
  | 'num_attention_heads'
  | 'num_key_value_heads'
  | 'head_dim'
  | 'vocab_size'
  | 'max_position_embeddings'
  | 'tie_word_embeddings'
>;

/**
 * The `config.json` Hotpath writes for a Llama decoder (forged or imported): RMSNorm eps 1e-5,
 * RoPE theta 10000, SiLU, no biases, BOS 1 / EOS 2 / PAD 0 — the llama2.c conventions.
 */
export function llamaConfig(dims: LlamaDims): LlamaConfig {
  return {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    ...dims,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: 'silu',
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 0,
    attention_bias: false,
    mlp_bias: false,
    torch_dtype: 'float32',
    use_cache: true,
  };
}

/** `config.json` of a BERT/MiniLM-style encoder (Hugging Face `BertConfig` field names). */
export interface BertConfig {
  model_type: 'bert';
  architectures: string[];
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  vocab_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  hidden_act: 'gelu';
  pad_token_id: number;
  torch_dtype: 'float32';
}

export type ModelConfigJson = LlamaConfig | BertConfig;

/** `generation_config.json`: stop ids and sampling defaults. */
export interface GenerationConfigJson {
  bos_token_id?: number;
  eos_token_id: number | number[];
  pad_token_id?: number;
  max_new_tokens?: number;
  do_sample?: boolean;
  temperature?: number;
  top_k?: number;
  top_p?: number;
}

/** `hotpath.json`: serving defaults and the content digest of the other files. */
export interface HotpathJson {
  task: 'generate' | 'embed';
  /** sha256 over the other files of the folder, see `computeModelDigest`. */
  digest: string;
  source: string;
  batching?: { max_batch_size: number };
  /** How `hotpath models quantize` made this folder (the spec is also in model.onnx's metadata). */
  quantization?: { method: string; block_size: number; accuracy_level: number; keep_float: string[] };
  /** How `hotpath models prune` made this folder. */
  pruning?: Record<string, number | string>;
  /** Digest of the folder this one was derived from (quantize, prune). */
  derived_from?: string;
}

/** Llama weights in PyTorch layout (`[out, in]` matrices), layers in order. */
export interface LlamaWeights {
  embed: Float32Array;
  layers: {
    attnNorm: Float32Array;
    wq: Float32Array;
    wk: Float32Array;
    wv: Float32Array;
    wo: Float32Array;
    ffnNorm: Float32Array;
    w1: Float32Array;
    w2: Float32Array;
    w3: Float32Array;
  }[];
  finalNorm: Float32Array;
  /** Absent when the classifier is tied to the embedding. */
  lmHead?: Float32Array;
}

/** BERT weights in PyTorch layout. */
export interface BertWeights {
  wordEmb: Float32Array;
  posEmb: Float32Array;
  typeEmb: Float32Array;
  embLnG: Float32Array;
  embLnB: Float32Array;
  layers: {
    wq: Float32Array;
    bq: Float32Array;
    wk: Float32Array;
    bk: Float32Array;
    wv: Float32Array;
    bv: Float32Array;
    wo: Float32Array;
    bo: Float32Array;
    ln1G: Float32Array;
    ln1B: Float32Array;
    w1: Float32Array;
    b1: Float32Array;
    w2: Float32Array;
    b2: Float32Array;
    ln2G: Float32Array;
    ln2B: Float32Array;
  }[];
}
