import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forgeModel } from '../forge/forge';
import { LocalModel } from '../generation/local-model';
import { SequenceState } from '../generation/sequence-state';
import type { LlamaConfig } from '../model/model-config';
import { DEFAULT_EXECUTION, OrtSession, type ExecutionSettings } from '../session/ort-session';
import { ArenaEngine } from './arena-engine';
import { engineGraphFor } from './engine-model';

describe('ArenaEngine graph choice (forged tiny)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-arena-'));
  let model: LocalModel;
  before(async () => {
    forgeModel({ arch: 'llama', preset: 'tiny', seed: 5, out: join(tmp, 'tiny') });
    model = await LocalModel.load(join(tmp, 'tiny'), {
      engine: 'arena',
      execution: { ...DEFAULT_EXECUTION, intra_op_threads: 1, gqa_max_rows: 2 },
    });
  });
  after(async () => {
    await model?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const seq = (prompt: string, of: LocalModel = model): SequenceState =>
    SequenceState.create(
      of.info.tokenizer,
      { prompt, params: { max_tokens: 8, temperature: 0 } },
      of.generationDefaults,
      of.info.config.max_position_embeddings,
    );

  /** The forged model loaded again with other execution settings, for `fn` alone. */
  const withTiny = async (
    exec: Partial<ExecutionSettings>,
    fn: (of: LocalModel) => Promise<void>,
  ): Promise<void> => {
    const of = await LocalModel.load(join(tmp, 'tiny'), {
      engine: 'arena',
      execution: { ...DEFAULT_EXECUTION, intra_op_threads: 1, ...exec },
      warmup: false,
    });
    try {
      await fn(of);
    } finally {
      await of.close();
    }
  };

  const id = (step: { token: { token_id: number } | null } | null | undefined): number =>
    step?.token?.token_id ?? -1;

  /** Greedy tokens of each prompt generated alone (a one-slot engine each), `steps` decode steps. */
  const solo = async (of: LocalModel, prompts: readonly string[], steps: number): Promise<number[][]> => {
    const out: number[][] = [];
    for (const prompt of prompts) {
      const s = seq(prompt, of);
      const engine = of.createEngine(1);
      const tokens = [id((await engine.prefill([s], Infinity))[0])];
      for (let i = 0; i < steps; i++) tokens.push(id((await engine.decode([s]))[0]));
      engine.release(s);
      out.push(tokens);
    }
    return out;
  };

  const LONG_PROMPT = 'once upon a time there was a little dog who liked to run in the park '.repeat(6);

  it('runs the GQA graph up to gqa_max_rows sequences and the wide graph above, on the same cache', async () => {
    const engine = model.createEngine(4) as ArenaEngine;
    assert.equal(engine.stats.graph, 'gqa');
    const seqs = ['the quick brown fox', 'hello', 'a b c d e f', 'zz'].map((p) => seq(p));
    await engine.prefill(seqs.slice(0, 2));
    assert.equal(engine.stats.graph, 'gqa', 'two running sequences stay on the GQA graph');
    const relayouts = engine.stats.relayouts;
    await engine.prefill(seqs.slice(2));
    assert.equal(engine.stats.graph, 'wide');
    await engine.decode(seqs);
    engine.release(seqs[0] as SequenceState);
    engine.release(seqs[1] as SequenceState);
    assert.equal(engine.stats.graph, 'gqa', 'two left: back on the GQA graph');
    assert.equal(engine.stats.relayouts, relayouts, 'switching graphs moved no cached row');
    // The survivors keep decoding on the cache the wide graph wrote.
    const steps = await engine.decode(seqs.slice(2));
    assert.equal(steps.length, 2);
  });

  it('gqa_chunk_rows keeps the GQA graph above gqa_max_rows, in forwards of at most that many rows', async () => {
    await withTiny({ gqa_max_rows: 2, gqa_chunk_rows: 3 }, async (chunked) => {
      const engine = chunked.createEngine(4) as ArenaEngine;
      const seqs = ['the quick brown fox', 'hello', 'a b c d e f', 'zz'].map((p) => seq(p));
      await engine.prefill(seqs);
      assert.equal(engine.stats.graph, 'gqa', 'four running sequences stay on the GQA graph');
      // Same tokens as the graph switching engine above: the forwards of 3 + 1 rows change nothing.
      const reference = model.createEngine(4) as ArenaEngine;
      const twins = ['the quick brown fox', 'hello', 'a b c d e f', 'zz'].map((p) => seq(p));
      await reference.prefill(twins);
      for (let step = 0; step < 3; step++) {
        const a = await engine.decode(seqs);
        const b = await reference.decode(twins);
        assert.deepEqual(
          a.map((t) => t.token),
          b.map((t) => t.token),
        );
      }
    });
  });

  it('keeps a long sequence in the long lane on the wide graph, and every row generates what it does alone', async () => {
    await withTiny({ gqa_max_rows: 0 }, async (wide) => {
      const prompts = ['hello', 'the quick brown fox', 'a b c', LONG_PROMPT];
      const engine = wide.createEngine(4) as ArenaEngine;
      const seqs = prompts.map((p) => seq(p, wide));
      const tokens = (await engine.prefill(seqs)).map((t) => [id(t)]);
      assert.deepEqual(
        engine.stats.lanes.map((l) => l.used),
        [4, 0],
        'all placed in the short lane at first',
      );
      for (let step = 0; step < 6; step++)
        (await engine.decode(seqs)).forEach((t, i) => tokens[i]?.push(id(t)));
      const { lanes, laneMoves } = engine.stats;
      assert.deepEqual(
        lanes.map((l) => l.used),
        [3, 1],
        'the long prompt moved to the long lane',
      );
      assert.equal(laneMoves, 1);
      assert.ok(
        (lanes[0]?.capacity as number) < (lanes[1]?.capacity as number),
        `the short lane is narrower: ${JSON.stringify(lanes)}`,
      );
      assert.deepEqual(tokens, await solo(wide, prompts, 6));
      // A new long prompt goes straight to the long lane, a short one to the short lane.
      const more = [seq(LONG_PROMPT + 'again', wide), seq('zz', wide)];
      await engine.prefill(more);
      assert.deepEqual(
        engine.stats.lanes.map((l) => l.used),
        [4, 2],
      );
      assert.equal(engine.stats.laneMoves, 1);
      for (const s of [...seqs, ...more]) engine.release(s);
      assert.deepEqual(
        engine.stats.lanes.map((l) => l.used),
        [0, 0],
      );
    });
  });

  it('brings the long lane back to the short lane when the GQA graph takes over', async () => {
    const prompts = ['hello', 'a b c', LONG_PROMPT];
    const engine = model.createEngine(4) as ArenaEngine;
    const seqs = prompts.map((p) => seq(p));
    const tokens = (await engine.prefill(seqs)).map((t) => [id(t)]);
    assert.equal(engine.stats.graph, 'wide');
    for (let step = 0; step < 3; step++)
      (await engine.decode(seqs)).forEach((t, i) => tokens[i]?.push(id(t)));
    assert.equal(engine.stats.lanes[1]?.used, 1);
    // Two left: the GQA graph, which reads one lane.
    engine.release(seqs[0] as SequenceState);
    assert.equal(engine.stats.graph, 'gqa');
    assert.deepEqual(
      engine.stats.lanes.map((l) => l.used),
      [2, 0],
    );
    const rest = seqs.slice(1);
    for (let step = 0; step < 3; step++)
      (await engine.decode(rest)).forEach((t, i) => tokens[i + 1]?.push(id(t)));
    const alone = await solo(model, prompts, 6);
    assert.deepEqual(tokens[0], alone[0]?.slice(0, 4));
    assert.deepEqual(tokens.slice(1), alone.slice(1));
  });

  it('a small model decodes on the decode-only wide graph, with the tokens of the general one', async () => {
    await withTiny({ gqa_max_rows: 0 }, async (general) => {
      const prompts = ['hello', 'the quick brown fox', 'a b c', LONG_PROMPT];
      const run = async (of: LocalModel): Promise<{ tokens: number[][]; wide: string }> => {
        const engine = of.createEngine(4) as ArenaEngine;
        const seqs = prompts.map((p) => seq(p, of));
        const tokens = (await engine.prefill(seqs)).map((t) => [id(t)]);
        for (let step = 0; step < 6; step++)
          (await engine.decode(seqs)).forEach((t, i) => tokens[i]?.push(id(t)));
        assert.equal(engine.stats.graph, 'wide', 'four rows decode on the wide graph');
        return { tokens, wide: engine.stats.wideGraph };
      };
      const decodeOnly = await run(model);
      const reference = await run(general);
      assert.equal(decodeOnly.wide, 'decode-only');
      assert.equal(reference.wide, 'general', 'without the GQA graph the wide graph prefills too');
      assert.deepEqual(decodeOnly.tokens, reference.tokens);
    });
  });

  it('prompt chunks of several rows with cached tokens prefill one row per GQA forward on a decode-only engine', async () => {
    const engine = model.createEngine(4) as ArenaEngine;
    const prompts = [
      LONG_PROMPT,
      'the quick brown fox jumps over the lazy dog',
      'a b c d e f g h',
      LONG_PROMPT + 'x',
    ];
    const seqs = prompts.map((p) => seq(p));
    // Four tokens each first, then the rest: the second forward's rows all have cached tokens.
    assert.deepEqual(await engine.prefill(seqs, 4), [null, null, null, null]);
    const tokens = (await engine.prefill(seqs)).map((t) => [id(t)]);
    assert.equal(engine.stats.wideGraph, 'decode-only');
    for (let step = 0; step < 4; step++)
      (await engine.decode(seqs)).forEach((t, i) => tokens[i]?.push(id(t)));
    assert.deepEqual(tokens, await solo(model, prompts, 4));
  });

  it('refuses a decode-only wide graph without a GQA graph to prefill on', async () => {
    const graph = engineGraphFor(model.info);
    assert.ok('decodePath' in graph && graph.decodePath, 'the tiny model has a decode-only variant');
    const session = await OrtSession.create(graph.decodePath);
    try {
      assert.throws(
        () => new ArenaEngine({ wide: session }, model.info.config as LlamaConfig, 2, 0),
        /decode-only wide graph needs the GQA graph/,
      );
    } finally {
      await session.release();
    }
  });

  it('gqa_max_rows 0 loads the wide graph alone', async () => {
    await withTiny({ gqa_max_rows: 0 }, async (wide) => {
      const engine = wide.createEngine(2) as ArenaEngine;
      assert.equal(engine.stats.graph, 'wide');
    });
  });
});
