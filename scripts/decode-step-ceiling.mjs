// The physical ceiling of batched decoding on this machine: times one ONNX Runtime decode step
// (`session.run`, one new token per row, a KV cache of T positions) at several batch sizes, with no
// HTTP, queue, scheduler or JavaScript-side KV handling around it. No serving system on top of this
// session can batch better than these numbers. Usage:
//   node scripts/decode-step-ceiling.mjs MODEL_DIR [--json FILE]
// MODEL_DIR is a decoder folder (docs/models.md#the-model-folder), e.g. one made by `hotpath models forge --preset small`.
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const [dir, flag, jsonFile] = process.argv.slice(2);
if (!dir || (flag !== undefined && (flag !== '--json' || !jsonFile))) {
  console.error('usage: node scripts/decode-step-ceiling.mjs MODEL_DIR [--json FILE]');
  process.exit(2);
}
const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
const layers = cfg.num_hidden_layers;
const kvHeads = cfg.num_key_value_heads ?? cfg.num_attention_heads;
const headDim = cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
const threads = availableParallelism();
const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const int64 = (n, v, dims) => new ort.Tensor('int64', new BigInt64Array(n).fill(v), dims);
const results = [];
for (const past of [64, 160]) {
  let single;
  for (const batch of [1, 4, 8, 16, 32, 64]) {
    const feeds = {
      input_ids: int64(batch, 5n, [batch, 1]),
      attention_mask: int64(batch * (past + 1), 1n, [batch, past + 1]),
      position_ids: int64(batch, BigInt(past), [batch, 1]),
    };
    for (let l = 0; l < layers; l++)
      for (const kv of ['key', 'value'])
        feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor(
          'float32',
          new Float32Array(batch * kvHeads * past * headDim).fill(0.01),
          [batch, kvHeads, past, headDim],
        );
    await session.run(feeds);
    const runs = 8;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await session.run(feeds);
    const stepMs = (performance.now() - t0) / runs;
    const tokensPerS = (batch * 1000) / stepMs;
    single ??= tokensPerS;
    const row = { past, batch, step_ms: +stepMs.toFixed(2), tokens_per_s: +tokensPerS.toFixed(1) };
    results.push({ ...row, vs_batch_1: +(tokensPerS / single).toFixed(2) });
    console.log(
      `past ${String(past).padStart(3)}  batch ${String(batch).padStart(2)}  ${stepMs.toFixed(2).padStart(7)} ms/step  ` +
        `${tokensPerS.toFixed(0).padStart(5)} tokens/s  ${(tokensPerS / single).toFixed(2)}× batch 1`,
    );
  }
}
await session.release();
if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ model: dir, threads, results }, null, 2));
