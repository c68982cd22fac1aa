import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { compareGreedy } from './token-agreement';

describe('token agreement', () => {
  it('counts identical prompts, the shared prefix and the first difference', () => {
    const a = compareGreedy(
      [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8],
      ],
      [
        [1, 2, 3],
        [4, 9, 6],
        [7, 8, 9],
      ],
      3,
    );
    assert.deepEqual(a, {
      prompts: 3,
      identical: 1,
      max_tokens: 3,
      tokens_compared: 9,
      matching_prefix_tokens: 6,
      first_mismatch: { prompt: 1, position: 1, hotpath: 5, other: 9 },
    });
    assert.equal(a.first_mismatch?.prompt, 1);
    // One side ending early (an EOS) is a difference at the shorter length.
    assert.deepEqual(compareGreedy([[1]], [[1, 2]], 2).first_mismatch, {
      prompt: 0,
      position: 1,
      hotpath: null,
      other: 2,
    });
  });
});
