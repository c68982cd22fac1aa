import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forgeModel } from '../forge/forge';
import { LocalModel } from '../generation/local-model';
import { SequenceState } from '../generation/sequence-state';
import { DEFAULT_EXECUTION } from '../session/ort-session';
import type { ArenaEngine } from './arena-engine';

describe('ArenaEngine graph choice (forged tiny)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-arena-'));
  let model: LocalModel;
  before(async () => {
    forgeModel({ arch: 'llama', preset: 'tiny', seed: 5, out: join(tmp, 'tiny') });
    model = await LocalModel.load(join(tmp, 'tiny'), {
      execution: { ...DEFAULT_EXECUTION, intra_op_threads: 1, gqa_max_rows: 2 },
    });
  });
  after(async () => {
    await model?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const seq = (prompt: string): SequenceState =>
    SequenceState.create(
      model.info.tokenizer,
      { prompt, params: { max_tokens: 8, temperature: 0 } },
      model.generationDefaults,
      model.info.config.max_position_embeddings,
    );

  it('runs the GQA graph up to gqa_max_rows sequences and the wide graph above, on the same cache', async () => {
    const engine = model.createEngine(4) as ArenaEngine;
    assert.equal(engine.stats.graph, 'gqa');
    const seqs = ['the quick brown fox', 'hello', 'a b c d e f', 'zz'].map(seq);
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
    const chunked = await LocalModel.load(join(tmp, 'tiny'), {
      execution: { ...DEFAULT_EXECUTION, intra_op_threads: 1, gqa_max_rows: 2, gqa_chunk_rows: 3 },
      warmup: false,
    });
    try {
      const engine = chunked.createEngine(4) as ArenaEngine;
      const seqs = ['the quick brown fox', 'hello', 'a b c d e f', 'zz'].map(seq);
      await engine.prefill(seqs);
      assert.equal(engine.stats.graph, 'gqa', 'four running sequences stay on the GQA graph');
      // Same tokens as the graph switching engine above: the forwards of 3 + 1 rows change nothing.
      const reference = model.createEngine(4) as ArenaEngine;
      const twins = ['the quick brown fox', 'hello', 'a b c d e f', 'zz'].map(seq);
      await reference.prefill(twins);
      for (let step = 0; step < 3; step++) {
        const a = await engine.decode(seqs);
        const b = await reference.decode(twins);
        assert.deepEqual(
          a.map((t) => t.token),
          b.map((t) => t.token),
        );
      }
    } finally {
      await chunked.close();
    }
  });

  it('gqa_max_rows 0 loads the wide graph alone', async () => {
    const wide = await LocalModel.load(join(tmp, 'tiny'), {
      execution: { ...DEFAULT_EXECUTION, intra_op_threads: 1, gqa_max_rows: 0 },
      warmup: false,
    });
    try {
      const engine = wide.createEngine(2) as ArenaEngine;
      assert.equal(engine.stats.graph, 'wide');
    } finally {
      await wide.close();
    }
  });
});
