import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { EmbedCoalescer } from './embed-coalescer';

describe('embed coalescer', () => {
  it('sends the first text alone, then everything that queued meanwhile as one batch (bounded)', async () => {
    const batches: string[][] = [];
    const c = new EmbedCoalescer(async (texts: string[]) => {
      batches.push(texts);
      await new Promise((r) => setImmediate(r));
      return texts.map((t) => t.length);
    }, 3);
    const out = await Promise.all(['a', 'bb', 'ccc', 'dddd', 'eeeee'].map((t) => c.embed(t)));
    assert.deepEqual(out, [1, 2, 3, 4, 5]);
    assert.deepEqual(batches, [['a'], ['bb', 'ccc', 'dddd'], ['eeeee']]);
  });

  it('fails every member of a failed batch and keeps serving', async () => {
    let calls = 0;
    const c = new EmbedCoalescer(async (texts: string[]) => {
      if (calls++ === 0) throw new Error('boom');
      return texts;
    }, 8);
    await assert.rejects(c.embed('x'), /boom/);
    assert.equal(await c.embed('y'), 'y');
  });
});
