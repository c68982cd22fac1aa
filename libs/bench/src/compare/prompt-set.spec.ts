import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { embedTexts, promptSet } from './prompt-set';

describe('bench compare prompt set', () => {
  it('is the same for the same seed and differs for another', () => {
    assert.deepEqual(promptSet(1, 32), promptSet(1, 32));
    assert.notDeepEqual(promptSet(1, 32), promptSet(2, 32));
  });

  it('has varied prompt lengths and 64-128 new tokens by default', () => {
    const set = promptSet(1, 200);
    const words = set.map((p) => p.prompt.split(' ').length);
    assert.ok(Math.min(...words) <= 8, 'some short prompts');
    assert.ok(Math.max(...words) >= 40, 'some long prompts');
    assert.ok(set.every((p) => p.maxTokens >= 64 && p.maxTokens <= 128));
    assert.ok(new Set(set.map((p) => p.maxTokens)).size > 20, 'token counts vary');
    assert.ok(new Set(set.map((p) => p.prompt)).size > 190, 'prompts are (nearly) all distinct');
  });

  it('honours a token range and gives embed texts', () => {
    assert.ok(promptSet(3, 50, { min: 4, max: 8 }).every((p) => p.maxTokens >= 4 && p.maxTokens <= 8));
    const texts = embedTexts(1, 10);
    assert.equal(texts.length, 10);
    assert.ok(texts.every((t) => t.length > 0));
  });
});
