import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prng } from '../forge/prng';
import { argmax, sampleToken } from './sampler';

describe('sampler', () => {
  it('argmax picks the lowest index on ties', () => {
    assert.equal(argmax(Float32Array.of(1, 3, 3, 2)), 1);
  });

  it('temperature 0 is greedy; top-k 1 is greedy at any temperature', () => {
    const row = Float32Array.of(0.1, 2, 1.9, -1);
    assert.equal(sampleToken(row, { temperature: 0, topK: 0, topP: 1 }, new Prng(1)), 1);
    for (let s = 0; s < 20; s++)
      assert.equal(sampleToken(row, { temperature: 2, topK: 1, topP: 1 }, new Prng(s)), 1);
  });

  it('same seed → same samples; top-p keeps only the nucleus', () => {
    const row = Float32Array.of(5, 4.9, -10, -10, -10);
    const draw = (seed: number, topP: number): number[] => {
      const rng = new Prng(seed);
      return Array.from({ length: 50 }, () => sampleToken(row, { temperature: 1, topK: 0, topP }, rng));
    };
    assert.deepEqual(draw(7, 1), draw(7, 1));
    assert.ok(draw(7, 0.9).every((t) => t === 0 || t === 1));
    assert.ok(draw(3, 0.4).every((t) => t === 0));
  });
});
