import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FORGE_PRESETS } from '../forge/forge-presets';
import { llamaConfig } from '../model/model-config';
import { modelMatmulParameters } from '../roofline/roofline';
import { DECODE_ONLY_MAX_PARAMS, hasDecodeOnlyVariant } from './engine-model';

describe('hasDecodeOnlyVariant', () => {
  const config = (hidden: number, intermediate: number, layers: number, heads: number, kvHeads: number) =>
    llamaConfig({
      hidden_size: hidden,
      intermediate_size: intermediate,
      num_hidden_layers: layers,
      num_attention_heads: heads,
      num_key_value_heads: kvHeads,
      head_dim: hidden / heads,
      vocab_size: 512,
      max_position_embeddings: 512,
      tie_word_embeddings: true,
    });

  it('gives overhead-bound models with a GQA graph the decode-only wide graph, not larger ones', () => {
    const stories = config(64, 172, 5, 8, 4);
    assert.ok(modelMatmulParameters(stories) < 300_000);
    assert.equal(hasDecodeOnlyVariant(stories), true);
    const { tiny, small } = FORGE_PRESETS;
    assert.equal(
      hasDecodeOnlyVariant(config(tiny.hidden, tiny.intermediate, tiny.layers, tiny.heads, tiny.kvHeads)),
      true,
    );
    const smallCfg = config(small.hidden, small.intermediate, small.layers, small.heads, small.kvHeads);
    assert.ok(modelMatmulParameters(smallCfg) > DECODE_ONLY_MAX_PARAMS);
    assert.equal(hasDecodeOnlyVariant(smallCfg), false);
  });

  it('never without a GQA graph (head size not a multiple of 8), since prompts then need the wide graph', () => {
    assert.equal(hasDecodeOnlyVariant(config(60, 172, 5, 5, 5)), false);
  });
});
