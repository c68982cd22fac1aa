import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FORGE_PRESETS } from '../forge/forge-presets';
import { shapeConfig } from '../testing/shape-config';
import { modelMatmulParameters } from '../roofline/roofline';
import { DECODE_ONLY_MAX_PARAMS, hasDecodeOnlyVariant } from './engine-model';

describe('hasDecodeOnlyVariant', () => {
  it('gives overhead-bound models with a GQA graph the decode-only wide graph, not larger ones', () => {
    const stories = shapeConfig(64, 172, 5, 8, 4);
    assert.ok(modelMatmulParameters(stories) < 300_000);
    assert.equal(hasDecodeOnlyVariant(stories), true);
    const { tiny, small } = FORGE_PRESETS;
    assert.equal(
      hasDecodeOnlyVariant(
        shapeConfig(tiny.hidden, tiny.intermediate, tiny.layers, tiny.heads, tiny.kvHeads),
      ),
      true,
    );
    const smallCfg = shapeConfig(small.hidden, small.intermediate, small.layers, small.heads, small.kvHeads);
    assert.ok(modelMatmulParameters(smallCfg) > DECODE_ONLY_MAX_PARAMS);
    assert.equal(hasDecodeOnlyVariant(smallCfg), false);
  });

  it('never without a GQA graph (head size not a multiple of 8), since prompts then need the wide graph', () => {
    assert.equal(hasDecodeOnlyVariant(shapeConfig(60, 172, 5, 5, 5)), false);
  });
});
