import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FORGE_PRESETS } from '../forge/forge-presets';
import { llamaConfig } from '../model/model-config';
import { measureRoofline, modelFlopsPerToken, modelMatmulParameters, rooflineLimits } from './roofline';

describe('roofline', () => {
  it('measures GEMM FLOP/s at each row count and the memory bandwidth through onnxruntime', async () => {
    const r = await measureRoofline({ rows: [1, 8], dim: 256, chain: 2, msPerPoint: 50 });
    assert.deepEqual(
      r.gemm.map((g) => g.rows),
      [1, 8],
    );
    for (const g of r.gemm) assert.ok(g.gflops > 0, JSON.stringify(g));
    assert.equal(r.peak_gflops, Math.max(...r.gemm.map((g) => g.gflops)));
    assert.ok(r.memory_bandwidth_gb_s > 0);
    assert.ok(r.gemv_bandwidth_gb_s > 0);
    assert.equal(r.dim, 256);
  });

  it('counts a Llama decoder FLOPs per token: 2 × matmul parameters plus attention', () => {
    const s = FORGE_PRESETS.small;
    const cfg = llamaConfig({
      hidden_size: s.hidden,
      intermediate_size: s.intermediate,
      num_hidden_layers: s.layers,
      num_attention_heads: s.heads,
      num_key_value_heads: s.kvHeads,
      head_dim: s.hidden / s.heads,
      vocab_size: s.vocab,
      max_position_embeddings: s.maxPositions,
      tie_word_embeddings: s.tied,
    });
    // Per layer: q 512², k and v 512·256 each, o 512², gate/up/down 512·1408 each; plus the classifier.
    const perLayer = 512 * 512 * 2 + 2 * 512 * 256 + 3 * 512 * 1408;
    assert.equal(modelMatmulParameters(cfg), 8 * perLayer + 512 * 8192);
    assert.equal(modelFlopsPerToken(cfg), 2 * modelMatmulParameters(cfg));
    assert.equal(modelFlopsPerToken(cfg, 100) - modelFlopsPerToken(cfg), 4 * 8 * 64 * 100 * 8);
    const limits = rooflineLimits({ peak_gflops: 100, memory_bandwidth_gb_s: 20 }, cfg);
    assert.equal(limits.compute_tokens_per_s, Math.round((100e9 / modelFlopsPerToken(cfg)) * 10) / 10);
    assert.equal(limits.memory_tokens_per_s, Math.round((20e9 / (4 * modelMatmulParameters(cfg))) * 10) / 10);
  });
});
