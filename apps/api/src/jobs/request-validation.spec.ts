import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { HotpathError, JobRequestSchema } from '@hotpath/contracts';
import { parseOrThrow } from './request-validation';

function paramOf(body: unknown): { param: string | undefined; message: string } {
  try {
    parseOrThrow(JobRequestSchema, body);
  } catch (err) {
    assert.ok(err instanceof HotpathError);
    assert.equal(err.code, 'invalid_request');
    return { param: err.param, message: err.message };
  }
  assert.fail('expected a validation error');
}

describe('parseOrThrow on job requests', () => {
  const ok = { model: 'm', task: 'generate', input: { prompt: 'hi' } };

  it('names a nested field as a dotted path and lists the problem', () => {
    const e = paramOf({ ...ok, params: { max_tokens: 0 } });
    assert.equal(e.param, 'params.max_tokens');
    assert.match(e.message, /^params\.max_tokens: /);
  });

  it('names the discriminator, unknown keys and array items', () => {
    assert.equal(paramOf({ ...ok, task: 'dance' }).param, 'task');
    assert.equal(paramOf({ ...ok, colour: 'red' }).param, 'colour');
    assert.equal(paramOf({ model: 'm', task: 'embed', input: { texts: ['a', 3] } }).param, 'input.texts.1');
  });

  it('has no param when the body itself is wrong', () => {
    assert.equal(paramOf(undefined).param, undefined);
  });

  it('returns parsed data with defaults', () => {
    const req = parseOrThrow(JobRequestSchema, ok);
    assert.equal(req.priority, 'normal');
    assert.equal(req.cache, 'default');
  });
});
