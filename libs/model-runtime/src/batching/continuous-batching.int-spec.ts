import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GeneratedToken, GenerationRequest } from '../generation/generation-types';
import { LocalModel } from '../generation/local-model';
import { type SequenceState, type TokenStep } from '../generation/sequence-state';
import { ReplicaPool } from '../replica/replica-pool';
import type { ScheduledGenerationOutput } from '../replica/replica-protocol';
import { BATCHING_MODELS } from '../testing/batching-models';
import { TEST_EXECUTION, greedy, plainReferenceTokens, sequenceOf } from '../testing/greedy-reference';
import { poolGenerate } from '../testing/pool-generate';
import { IterationScheduler, type SequenceEngine } from '@hotpath/batching';

/** Wraps an engine to record the size of every decode batch. */
class RecordingEngine<S> implements SequenceEngine<S, GeneratedToken> {
  readonly decodeSizes: number[] = [];
  readonly prefillSizes: number[] = [];
  constructor(private readonly inner: SequenceEngine<S, GeneratedToken>) {}
  promptLength(seq: S): number {
    return this.inner.promptLength(seq);
  }
  prefill(seqs: readonly S[], maxTokens: number): Promise<(TokenStep | null)[]> {
    this.prefillSizes.push(seqs.length);
    return this.inner.prefill(seqs, maxTokens);
  }
  decode(seqs: readonly S[]): Promise<TokenStep[]> {
    this.decodeSizes.push(seqs.length);
    return this.inner.decode(seqs);
  }
  release(seq: S): void {
    this.inner.release(seq);
  }
}

/**
 * Submits `requests` to `submit`, request 0 first and each later one when request 0 has produced
 * `joinAt[i]` tokens, so sequences join a running batch at different token boundaries.
 */
async function staggered(
  requests: readonly GenerationRequest[],
  joinAt: readonly number[],
  submit: (r: GenerationRequest, onToken?: (index: number) => void) => Promise<{ tokens: number[] }>,
): Promise<number[][]> {
  const runs: Promise<{ tokens: number[] }>[] = [];
  const first = submit(requests[0] as GenerationRequest, (index) => {
    requests.forEach((r, i) => {
      if (i > 0 && joinAt[i] === index + 1) runs[i] = submit(r);
    });
  });
  runs[0] = first;
  requests.forEach((r, i) => {
    if (i > 0 && joinAt[i] === 0) runs[i] = submit(r);
  });
  await first;
  // Request 0 may have ended (EOS) before some join points: submit those now.
  requests.forEach((r, i) => (runs[i] ??= submit(r)));
  return (await Promise.all(runs)).map((o) => o.tokens);
}

function suite(
  name: string,
  prepare: (tmp: string) => string | undefined,
  prompts: readonly string[],
  engineMode: 'wasm' | 'arena' | 'plain',
): void {
  describe(`continuous batching (${name}, ${engineMode} engine)`, () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hp-cb-'));
    let dir: string | undefined;
    let local: LocalModel;
    let solo: number[][] = [];
    const maxTokens = [24, 9, 17, 5, 20];
    const requests = prompts.map((p, i) => greedy(p, maxTokens[i % maxTokens.length] as number));

    before(async () => {
      dir = prepare(tmp);
      if (!dir) return;
      // Solo tokens come from the plain graph, one sequence at a time: the independent reference.
      solo = await plainReferenceTokens(dir, requests);
      local = await LocalModel.load(dir, { execution: TEST_EXECUTION, engine: engineMode });
      assert.equal(local.engine, engineMode);
    });
    after(async () => {
      await local?.close();
      rmSync(tmp, { recursive: true, force: true });
    });

    const scheduler = (
      maxBatchSize: number,
    ): { s: IterationScheduler<SequenceState, GeneratedToken>; engine: RecordingEngine<SequenceState> } => {
      const engine = new RecordingEngine(local.createEngine(maxBatchSize));
      const s = new IterationScheduler(engine, {
        maxRunningSequences: maxBatchSize,
        prefillChunkTokens: 16,
        decodeStepsPerPrefill: 1,
      });
      return { s, engine };
    };
    const seqOf = (r: GenerationRequest): SequenceState => sequenceOf(local, r);

    it('sequences joining and leaving a running batch get exactly their solo greedy tokens', async (t) => {
      if (!dir) return t.skip('model not available');
      const { s, engine } = scheduler(8);
      let key = 0;
      const got = await staggered(requests, [0, 0, 3, 4, 7], async (r, onToken) => {
        const seq = seqOf(r);
        await s.submit(key++, seq, { onToken: (tok) => onToken?.(tok.index) });
        return seq;
      });
      got.forEach((tokens, i) => assert.deepEqual(tokens, solo[i], `request ${i}`));
      assert.ok(Math.max(...engine.decodeSizes) >= 3, `decode sizes ${engine.decodeSizes.join(',')}`);
      assert.ok(engine.prefillSizes.length >= 3, 'newcomers were prefilled at several boundaries');
    });

    it('a cancelled sequence stops within one token while the others continue', async (t) => {
      if (!dir) return t.skip('model not available');
      const { s } = scheduler(8);
      const victim = seqOf(greedy(prompts[0] as string, 200));
      const other = seqOf(requests[2] as GenerationRequest);
      const [v, o] = await Promise.all([
        s.submit(1, victim, { onToken: (tok) => tok.index === 4 && s.cancel(1) }),
        s.submit(2, other),
      ]);
      assert.equal(v.finishReason, 'cancelled');
      assert.equal(victim.tokens.length, 5);
      assert.equal(o.finishReason, 'length');
      assert.deepEqual(other.tokens, solo[2]);
    });

    it('respects maxBatchSize, and maxBatchSize 1 serves one sequence at a time', async (t) => {
      if (!dir) return t.skip('model not available');
      for (const cap of [2, 1]) {
        const { s, engine } = scheduler(cap);
        const seqs = requests.map(seqOf);
        await Promise.all(seqs.map((q, i) => s.submit(i, q)));
        seqs.forEach((q, i) => assert.deepEqual(q.tokens, solo[i], `cap ${cap}, request ${i}`));
        assert.equal(Math.max(...engine.decodeSizes), cap);
        assert.ok(Math.max(...engine.prefillSizes) <= cap);
      }
    });

    it('through ReplicaPool: same tokens, per-request cancellation, batch stats', async (t) => {
      if (!dir) return t.skip('model not available');
      const pool = await ReplicaPool.start({
        dir,
        replicas: 1,
        execution: TEST_EXECUTION,
        warmup: false,
        engine: engineMode,
        scheduler: { maxRunningSequences: 8 },
      });
      try {
        const ac = new AbortController();
        const victim = pool.submitGeneration(greedy(prompts[1] as string, 300), {
          signal: ac.signal,
          onToken: (tok) => tok.index === 3 && ac.abort(),
        });
        const outs = await Promise.all(requests.map((r) => pool.submitGeneration(r)));
        outs.forEach((o, i) => assert.deepEqual(o.tokens, solo[i], `request ${i}`));
        const v = await victim;
        assert.equal(v.finishReason, 'cancelled');
        // The abort crosses a thread boundary; the replica drops the sequence at its next boundary.
        assert.ok(v.tokens.length >= 4 && v.tokens.length < 30, `${v.tokens.length} tokens`);
        assert.ok(outs.some((o) => o.meanBatchSize > 1));
        for (const o of outs) assert.ok(o.batchWaitMs >= 0 && o.inferenceMs > 0);
        assert.deepEqual(pool.load(), [0]);
      } finally {
        await pool.close();
      }
      const naive = await ReplicaPool.start({
        dir,
        replicas: 1,
        execution: TEST_EXECUTION,
        warmup: false,
        engine: engineMode,
        scheduler: { maxRunningSequences: 1 },
      });
      try {
        const outs: ScheduledGenerationOutput[] = await poolGenerate(naive, requests.slice(0, 3));
        outs.forEach((o, i) => {
          assert.deepEqual(o.tokens, solo[i]);
          assert.equal(o.meanBatchSize, 1);
        });
        // Sequential: the third waited for the first two to finish. The first may have started before
        // the third reached the replica thread; the second cannot start before the first is done.
        assert.ok((outs[2]?.batchWaitMs ?? 0) >= (outs[1]?.inferenceMs ?? 0));
      } finally {
        await naive.close();
      }
    });
  });
}

const TINY_PROMPTS = [
  'hello there',
  'a much longer prompt with quite a few more words in it',
  'x',
  'the quick brown fox',
  'ok go',
];

// A float16 KV cache and logits (onnx-community `onnx/model_fp16.onnx`) run on the plain engine only.
suite('forged tiny fp16', BATCHING_MODELS.tinyFp16, TINY_PROMPTS, 'plain');

for (const mode of ['wasm', 'arena', 'plain'] as const) {
  suite('forged tiny', BATCHING_MODELS.tiny, TINY_PROMPTS, mode);

  suite(
    'stories260K',
    BATCHING_MODELS.stories260k,
    [
      'Once upon a time',
      'The little dog',
      'Lily and Tom went to the park. They',
      'Sam',
      'One day, a big bird',
    ],
    mode,
  );
}
