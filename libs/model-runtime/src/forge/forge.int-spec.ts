import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalModel } from '../generation/local-model';
import { computeModelDigest } from '../model/model-folder';
import {
  engineLogits,
  engineTraceDiff,
  forEachEngineGraph,
  maxAbsDiff,
  onnxLogits,
  referenceLogits,
} from '../testing/parity';
import { ReferenceLlama } from '../testing/reference-llama';
import { forgeLlamaWeights, forgeModel } from './forge';
import { FORGE_PRESETS } from './forge-presets';

describe('forged models', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-forge-'));
  let tiny: LocalModel;
  let plain: LocalModel;
  before(async () => {
    forgeModel({ arch: 'llama', preset: 'tiny', seed: 3, out: join(tmp, 'tiny') });
    tiny = await LocalModel.load(join(tmp, 'tiny'));
    plain = await LocalModel.load(join(tmp, 'tiny'), { engine: 'plain', warmup: false });
  });
  after(async () => {
    await tiny?.close();
    await plain?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('is deterministic: same seed → same digest, other seed → other digest', () => {
    const a = forgeModel({ arch: 'llama', preset: 'tiny', seed: 3, out: join(tmp, 'again') });
    assert.equal(a.digest, computeModelDigest(join(tmp, 'tiny')));
    assert.equal(a.digest, tiny.info.digest);
    const b = forgeModel({ arch: 'llama', preset: 'tiny', seed: 4, out: join(tmp, 'other') });
    assert.notEqual(a.digest, b.digest);
    assert.ok(a.parameters > 200_000 && a.parameters < 400_000, `tiny has ${a.parameters} parameters`);
  });

  it('rejects unknown presets and arch/preset mismatches with codes', () => {
    assert.throws(() => forgeModel({ arch: 'llama', preset: 'huge', seed: 1, out: join(tmp, 'x') }), {
      code: 'invalid_input',
    });
    assert.throws(() => forgeModel({ arch: 'bert', preset: 'tiny', seed: 1, out: join(tmp, 'x') }), {
      code: 'invalid_input',
    });
  });

  it('ONNX logits match the rotate-half reference pass (no cache, cache, batch 1 and 4)', async () => {
    const { config, weights } = forgeLlamaWeights(FORGE_PRESETS.tiny, 3);
    const make = (): ReferenceLlama => ReferenceLlama.forConfig(config, weights, 64);
    const tok = tiny.info.tokenizer;
    const seqs = ['the quick brown fox', 'hello', 'a b c d e f g h i j', 'zebra crossing at night'].map((p) =>
      tok.encode(p),
    );
    const refs = seqs.map((s) => referenceLogits(make, s));
    const check = (got: Float32Array[][], label: string): void =>
      got.forEach((rows, b) =>
        rows.forEach((row, p) => {
          const d = maxAbsDiff(row, (refs[b] as Float32Array[])[p] as Float32Array);
          assert.ok(d <= 1e-4, `${label}: seq ${b} pos ${p} max abs diff ${d}`);
        }),
      );
    const lm = plain.causalLm;
    check(await onnxLogits(lm, [seqs[0] as number[]], [(seqs[0] as number[]).length]), 'batch 1, no cache');
    check(await onnxLogits(lm, [seqs[0] as number[]], [2]), 'batch 1, cache');
    check(
      await onnxLogits(
        lm,
        seqs,
        seqs.map((s) => s.length),
      ),
      'batch 4, no cache',
    );
    check(
      await onnxLogits(
        lm,
        seqs,
        seqs.map((s) => Math.min(3, s.length)),
      ),
      'batch 4, cache',
    );
    const prompt = tok.encode('the quick brown fox');
    const [out] = await tiny.generate([{ prompt, params: { max_tokens: 16, temperature: 0 } }]);
    assert.equal(tiny.engine, 'wasm', 'auto serves a model this small on the WASM engine');
    assert.deepEqual(out?.tokens, make().greedy(prompt, 16, tiny.info.eosIds));
    // Every engine (WASM kernels; arena graphs: in-place KV, ragged rows, chunked prefill) against
    // the same reference.
    await forEachEngineGraph(join(tmp, 'tiny'), async (m, graphs) => {
      for (const chunk of [512, 4]) {
        const d = engineTraceDiff(make, seqs, await engineLogits(m, seqs, 10, chunk));
        assert.ok(d <= 1e-4, `engine, batch 4, ${graphs}, prefill chunk ${chunk}: max abs diff ${d}`);
      }
    });
  });

  it('samples reproducibly: same seed → same tokens; top-k 1 = greedy', async () => {
    const params = { max_tokens: 12, temperature: 0.9, top_p: 0.95, top_k: 40, seed: 42 };
    const [a] = await tiny.generate([{ prompt: 'hello', params }]);
    const [b] = await tiny.generate([{ prompt: 'hello', params }]);
    assert.deepEqual(a?.tokens, b?.tokens);
    const [greedy] = await tiny.generate([{ prompt: 'hello', params: { max_tokens: 12, temperature: 0 } }]);
    const [k1] = await tiny.generate([
      { prompt: 'hello', params: { max_tokens: 12, temperature: 1, top_k: 1, seed: 5 } },
    ]);
    assert.deepEqual(k1?.tokens, greedy?.tokens);
  });

  it('honours max_tokens, stop sequences, cancellation and the token callback', async () => {
    const [greedy] = await tiny.generate([{ prompt: 'hello', params: { max_tokens: 20, temperature: 0 } }]);
    assert.equal(greedy?.finishReason, 'length');
    assert.equal(greedy?.tokens.length, 20);
    const text = greedy?.text ?? '';
    const stop = text.slice(4, 6);
    const [stopped] = await tiny.generate([
      { prompt: 'hello', params: { max_tokens: 20, temperature: 0, stop: [stop] } },
    ]);
    assert.equal(stopped?.finishReason, 'stop');
    assert.equal(stopped?.text, text.slice(0, text.indexOf(stop)));
    const ac = new AbortController();
    const seen: number[] = [];
    const [cancelled] = await tiny.generate(
      [{ prompt: 'hello', params: { max_tokens: 50, temperature: 0 } }],
      {
        signal: ac.signal,
        onToken: (_seq, tok) => {
          seen.push(tok.token_id);
          if (tok.index === 2) ac.abort();
        },
      },
    );
    assert.equal(cancelled?.finishReason, 'cancelled');
    assert.equal(cancelled?.tokens.length, 3);
    assert.deepEqual(seen, cancelled?.tokens);
  });

  it('forges a tiny-embed encoder whose embeddings are L2-normalised and batch-independent', async () => {
    forgeModel({ arch: 'bert', preset: 'tiny-embed', seed: 1, out: join(tmp, 'embed') });
    const enc = await LocalModel.load(join(tmp, 'embed'));
    try {
      const texts = ['hello world', 'a much longer sentence about embeddings and batching', 'x'];
      const batch = await enc.embed(texts);
      assert.equal(batch.length, 3);
      for (const [i, v] of batch.entries()) {
        assert.equal(v.length, 128);
        assert.ok(Math.abs(v.reduce((a, x) => a + x * x, 0) - 1) < 1e-6);
        const [single] = await enc.embed([texts[i] as string]);
        assert.ok(maxAbsDiff(Float32Array.from(v), Float32Array.from(single ?? [])) < 1e-5);
      }
      await assert.rejects(enc.generate([{ prompt: 'x' }]), { code: 'invalid_input' });
    } finally {
      await enc.close();
    }
  });
});
