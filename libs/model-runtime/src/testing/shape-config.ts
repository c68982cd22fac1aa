import { llamaConfig, type LlamaConfig } from '../model/model-config';

/** A Llama config of the given shape (head size hidden / heads, 512-token vocabulary), for rules that read only the shape. */
export function shapeConfig(
  hidden: number,
  intermediate: number,
  layers: number,
  heads: number,
  kvHeads: number,
  positions = 512,
): LlamaConfig {
  return llamaConfig({
    hidden_size: hidden,
    intermediate_size: intermediate,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: hidden / heads,
    vocab_size: 512,
    max_position_embeddings: positions,
    tie_word_embeddings: true,
  });
}
