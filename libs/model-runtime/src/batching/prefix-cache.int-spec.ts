import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GenerationRequest } from '../generation/generation-types';
import { LocalModel } from '../generation/local-model';
import { type SequenceState } from '../generation/sequence-state';
import { ReplicaPool } from '../replica/replica-pool';
import { BATCHING_MODELS } from '../testing/batching-models';
import { TEST_EXECUTION, greedy, plainReferenceTokens, sequenceOf } from '../testing/greedy-reference';
import { IterationScheduler } from '@hotpath/batching';
import type { LlamaConfig } from '../model/model-config';
import { PrefixKvCache } from './prefix-cache';

function suite(
  name: string,
  prepare: (tmp: string) => string | undefined,
  system: string,
  asks: string[],
  engineMode: 'wasm' | 'arena' | 'plain',
): void {
  describe(`prefix KV cache (${name}, ${engineMode} engine)`, () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hp-prefix-'));
    let dir: string | undefined;
    let local: LocalModel;
    const requests = [...asks.map((a) => greedy(system + a, 12)), greedy(system, 8), greedy('Zed', 6)];
    let cold: number[][] = [];

    before(async () => {
      dir = prepare(tmp);
      if (!dir) return;
      // Cold tokens come from the plain graph without any cache: the independent reference.
      cold = await plainReferenceTokens(dir, requests);
      local = await LocalModel.load(dir, { execution: TEST_EXECUTION, engine: engineMode });
    });
    after(async () => {
      await local?.close();
      rmSync(tmp, { recursive: true, force: true });
    });

    const seqOf = (r: GenerationRequest): SequenceState => sequenceOf(local, r);

    it('reuses cached prefix blocks and yields exactly the cold greedy tokens', async (t) => {
      if (!dir) return t.skip('model not available');
      const cache = new PrefixKvCache({ maxBytes: 64 << 20, blockTokens: 4 });
      const engine = local.createEngine(8, cache);
      const s = new IterationScheduler(engine, {
        maxRunningSequences: 8,
        prefillChunkTokens: 512,
        decodeStepsPerPrefill: 1,
      });
      const first = seqOf(requests[0] as GenerationRequest);
      await s.submit(0, first);
      assert.deepEqual(first.tokens, cold[0]);
      assert.equal(engine.prefixHitTokens(first), 0, 'nothing cached before the first prompt');
      // Warm: the rest arrive together (one prefill group mixing hits of different lengths and a
      // prompt with no cached prefix), then the first prompt again.
      const seqs = [...requests.slice(1), requests[0] as GenerationRequest].map(seqOf);
      await Promise.all(seqs.map((q, i) => s.submit(i + 1, q)));
      const expected = [...cold.slice(1), cold[0]];
      seqs.forEach((q, i) => assert.deepEqual(q.tokens, expected[i], `request ${i + 1}`));
      const again = seqs[seqs.length - 1] as SequenceState;
      assert.ok(engine.prefixHitTokens(again) > 0, 'the repeated prompt reused its prefix');
      assert.ok(
        seqs.some((q, i) => i < asks.length - 1 && engine.prefixHitTokens(q) > 0),
        'a prompt sharing the system prefix reused it',
      );
      assert.equal(engine.prefixHitTokens(seqs[seqs.length - 2] as SequenceState), 0, 'unrelated prompt');
      // One at a time (each prefill alone), every warm prompt must still match.
      for (const [i, r] of requests.entries()) {
        const q = seqOf(r);
        await s.submit(100 + i, q);
        assert.deepEqual(q.tokens, cold[i], `sequential request ${i}`);
      }
    });

    it('keeps the cache within its byte bound under many distinct prompts', async (t) => {
      if (!dir) return t.skip('model not available');
      const c = local.info.config as LlamaConfig;
      const elementBytes = local.info.kvType === 'float16' ? 2 : 4;
      const blockBytes = c.num_hidden_layers * 2 * c.num_key_value_heads * 4 * c.head_dim * elementBytes;
      const cache = new PrefixKvCache({ maxBytes: 6 * blockBytes, blockTokens: 4 });
      const engine = local.createEngine(4, cache);
      const s = new IterationScheduler(engine, {
        maxRunningSequences: 4,
        prefillChunkTokens: 512,
        decodeStepsPerPrefill: 1,
      });
      for (let i = 0; i < 6; i++) {
        const q = seqOf(greedy(`${i} ${system}${asks[i % asks.length] as string}`, 2));
        await s.submit(i, q);
        assert.ok(cache.stats.bytes <= 6 * blockBytes, `${cache.stats.bytes} bytes after prompt ${i}`);
      }
      assert.ok(cache.stats.evictions > 0, 'the bound forced evictions');
      assert.equal(cache.stats.bytes % blockBytes, 0, `blocks of ${blockBytes} bytes (${local.info.kvType})`);
      // The most recent prompt is still (partly) cached; a prompt from the start was evicted.
      const last = seqOf(greedy(`5 ${system}${asks[5 % asks.length] as string}`, 2));
      assert.ok(cache.peek(last.prompt, last.prompt.length - 1) > 0);
    });

    it('through ReplicaPool: outputs report prefixHitTokens and match cold tokens', async (t) => {
      if (!dir) return t.skip('model not available');
      const pool = await ReplicaPool.start({
        dir,
        replicas: 1,
        execution: TEST_EXECUTION,
        warmup: false,
        engine: engineMode,
        prefixCache: { maxBytes: 64 << 20, blockTokens: 4 },
      });
      try {
        const firstOut = await pool.submitGeneration(requests[0] as GenerationRequest);
        assert.equal(firstOut.prefixHitTokens, 0);
        const outs = await Promise.all(requests.map((r) => pool.submitGeneration(r)));
        outs.forEach((o, i) => assert.deepEqual(o.tokens, cold[i], `request ${i}`));
        assert.ok((outs[0]?.prefixHitTokens ?? 0) >= 4);
        assert.equal(outs[outs.length - 1]?.prefixHitTokens, 0);
      } finally {
        await pool.close();
      }
    });
  });
}

const SYSTEM_TINY = 'You are a kind storyteller who writes short tales for children. Topic: ';
const TINY_ASKS = ['a red fox', 'the sea', 'two cats and a dog', 'x', 'rain', 'a long trip to the mountains'];

// Cached blocks of a float16 KV cache (onnx-community `onnx/model_fp16.onnx`, plain engine only).
suite('forged tiny fp16', BATCHING_MODELS.tinyFp16, SYSTEM_TINY, TINY_ASKS, 'plain');

for (const mode of ['wasm', 'arena', 'plain'] as const) {
  suite('forged tiny', BATCHING_MODELS.tiny, SYSTEM_TINY, TINY_ASKS, mode);

  suite(
    'stories260K',
    BATCHING_MODELS.stories260k,
    'Once upon a time, there was a little girl named Lily. She liked to play in the park with her ',
    ['dog.', 'friend Tom. One day', 'ball', 'mom and dad', 'big red kite', 'cat'],
    mode,
  );
}
