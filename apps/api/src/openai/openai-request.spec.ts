import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { HotpathError } from '@hotpath/contracts';
import { toOpenAiErrorResponse } from '../errors/error-mapping';
import { parseChatRequest, parseCompletionRequest, parseEmbeddingRequest } from './openai-request';

/** The OpenAI error body of what `fn` throws. */
function refused(fn: () => unknown): {
  param: string | null;
  code: string | null;
  message: string;
  type: string;
} {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HotpathError);
    const res = toOpenAiErrorResponse(err);
    assert.equal(res.status, 400);
    return res.body.error;
  }
  assert.fail('expected a refusal');
}

describe('parseCompletionRequest', () => {
  it('maps OpenAI fields onto native generation params, with OpenAI defaults', () => {
    const r = parseCompletionRequest({
      model: 'm',
      prompt: ['hello'],
      max_tokens: 5,
      top_p: 0.9,
      seed: 4,
      stop: 'END',
      n: 1,
      user: 'u1',
      stream: true,
      stream_options: { include_usage: true },
      echo: false,
      presence_penalty: 0,
      logit_bias: {},
      top_k: 20,
      priority: 'high',
    });
    assert.deepEqual(r, {
      model: 'm',
      prompt: 'hello',
      params: { temperature: 1, max_tokens: 5, top_p: 0.9, top_k: 20, seed: 4, stop: ['END'] },
      stream: true,
      includeUsage: true,
      priority: 'high',
    });
    assert.equal(parseCompletionRequest({ model: 'm', prompt: 'x', temperature: 0 }).params.temperature, 0);
    assert.equal(
      parseCompletionRequest({ model: 'm', prompt: 'x', temperature: null }).params.temperature,
      1,
    );
  });

  it('names the parameter of every refusal, with OpenAI codes', () => {
    assert.deepEqual(
      refused(() => parseCompletionRequest({ model: 'm', prompt: 'x', n: 3 })),
      {
        message: 'only n=1 is supported',
        type: 'invalid_request_error',
        param: 'n',
        code: 'unsupported_parameter',
      },
    );
    assert.equal(
      refused(() => parseCompletionRequest({ model: 'm', prompt: 'x', logprobs: 2 })).param,
      'logprobs',
    );
    assert.equal(
      refused(() => parseCompletionRequest({ model: 'm', prompt: 'x', best_of: 2 })).code,
      'unsupported_parameter',
    );
    assert.equal(
      refused(() => parseCompletionRequest({ model: 'm', prompt: 'x', nope: 1 })).code,
      'unknown_parameter',
    );
    assert.equal(refused(() => parseCompletionRequest({ prompt: 'x' })).code, 'missing_required_parameter');
    assert.equal(refused(() => parseCompletionRequest({ model: 'm', prompt: ['a', 'b'] })).param, 'prompt');
    assert.equal(refused(() => parseCompletionRequest({ model: 'm', prompt: [1, 2] })).param, 'prompt');
    assert.equal(
      refused(() => parseCompletionRequest({ model: 'm', prompt: 'x', max_tokens: 0 })).param,
      'max_tokens',
    );
    assert.equal(
      refused(() => parseCompletionRequest({ model: 'm', prompt: 'x', temperature: 3 })).code,
      'invalid_value',
    );
    assert.equal(refused(() => parseCompletionRequest({ model: 'm', prompt: 'x', top_p: 0 })).param, 'top_p');
    assert.equal(refused(() => parseCompletionRequest({ model: 'm', prompt: 'x', seed: -1 })).param, 'seed');
    assert.equal(
      refused(() => parseCompletionRequest({ model: 'm', prompt: 'x', stop: ['a', 'b', 'c', 'd', 'e'] }))
        .param,
      'stop',
    );
    assert.equal(
      refused(() =>
        parseCompletionRequest({ model: 'm', prompt: 'x', stream_options: { include_usage: true } }),
      ).param,
      'stream_options',
    );
    assert.equal(refused(() => parseCompletionRequest('text')).param, 'body');
  });
});

describe('parseChatRequest', () => {
  it('flattens text parts and prefers max_completion_tokens', () => {
    const r = parseChatRequest({
      model: 'm',
      messages: [
        { role: 'system', content: 'sys' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
          name: 'bob',
        },
        { role: 'assistant', content: null },
      ],
      max_tokens: 9,
      max_completion_tokens: 3,
      tools: [],
      tool_choice: 'none',
      response_format: { type: 'text' },
    });
    assert.deepEqual(r.messages, [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'ab', name: 'bob' },
      { role: 'assistant', content: '' },
    ]);
    assert.equal(r.params.max_tokens, 3);
  });

  it('refuses tools, images, tool messages and missing messages by name', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    assert.equal(refused(() => parseChatRequest({ ...base, tools: [{ type: 'function' }] })).param, 'tools');
    assert.equal(
      refused(() => parseChatRequest({ ...base, response_format: { type: 'json_object' } })).param,
      'response_format',
    );
    assert.equal(
      refused(() =>
        parseChatRequest({
          model: 'm',
          messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }],
        }),
      ).param,
      'messages[0].content[0]',
    );
    assert.equal(
      refused(() => parseChatRequest({ model: 'm', messages: [{ role: 'tool', content: 'x' }] })).param,
      'messages[0].role',
    );
    assert.equal(refused(() => parseChatRequest({ model: 'm', messages: [] })).param, 'messages');
    assert.equal(
      refused(() =>
        parseChatRequest({ model: 'm', messages: [{ role: 'assistant', content: 'x', tool_calls: [{}] }] }),
      ).param,
      'messages[0].tool_calls',
    );
  });
});

describe('parseEmbeddingRequest', () => {
  it('accepts a string or strings, float or base64', () => {
    assert.deepEqual(parseEmbeddingRequest({ model: 'e', input: 'a' }), {
      model: 'e',
      input: ['a'],
      encoding_format: 'float',
    });
    assert.deepEqual(
      parseEmbeddingRequest({ model: 'e', input: ['a', 'b'], encoding_format: 'base64', user: 'u' }).input,
      ['a', 'b'],
    );
  });

  it('refuses token arrays, empty input, dimensions and other formats', () => {
    assert.equal(refused(() => parseEmbeddingRequest({ model: 'e', input: [[1, 2]] })).param, 'input[0]');
    assert.equal(refused(() => parseEmbeddingRequest({ model: 'e', input: [] })).param, 'input');
    assert.equal(refused(() => parseEmbeddingRequest({ model: 'e', input: ['a', ''] })).param, 'input[1]');
    assert.equal(
      refused(() => parseEmbeddingRequest({ model: 'e', input: 'a', dimensions: 8 })).param,
      'dimensions',
    );
    assert.equal(
      refused(() => parseEmbeddingRequest({ model: 'e', input: 'a', encoding_format: 'int8' })).param,
      'encoding_format',
    );
  });
});
