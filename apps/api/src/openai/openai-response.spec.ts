import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { JobView } from '@hotpath/contracts';
import {
  ChunkBuilder,
  embeddingResponse,
  float32Base64,
  generationResponse,
  type ResponseMeta,
} from './openai-response';

const view = (over: Partial<JobView>): JobView => ({
  id: 'j1',
  status: 'completed',
  model: 'm',
  task: 'generate',
  priority: 'normal',
  shard: 0,
  result: { text: 'hi there', tokens: [1, 2], finish_reason: 'stop' },
  error: null,
  cached: false,
  usage: { prompt_tokens: 3, completion_tokens: 2 },
  timings_ms: { queue: 0, batch_wait: 0, inference: 1, total: 1 },
  attempts: 1,
  created_at: '2024-01-01T00:00:00.000Z',
  started_at: null,
  finished_at: null,
  ...over,
});
const meta = (kind: 'chat' | 'completion'): ResponseMeta => ({
  kind,
  jobId: 'j1',
  created: 1700000000,
  model: 'm',
  fingerprint: 'sha256:ab',
});

describe('OpenAI response shapes', () => {
  it('builds chat and text completions from a finished job', () => {
    const chat = generationResponse(meta('chat'), view({}));
    assert.deepEqual(chat, {
      id: 'chatcmpl-j1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'm',
      system_fingerprint: 'sha256:ab',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'hi there', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 3,
        completion_tokens: 2,
        total_tokens: 5,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
    const text = generationResponse(
      meta('completion'),
      view({ result: { text: 'x', tokens: [1], finish_reason: 'length' } }),
    );
    assert.equal(text['id'], 'cmpl-j1');
    assert.deepEqual(text['choices'], [{ index: 0, text: 'x', logprobs: null, finish_reason: 'length' }]);
  });

  it('streams chat chunks: role first, content deltas, finish, usage', () => {
    const b = new ChunkBuilder(meta('chat'), true);
    const first = b.text('Hel');
    assert.deepEqual(first['choices'], [
      { index: 0, delta: { role: 'assistant', content: 'Hel' }, logprobs: null, finish_reason: null },
    ]);
    assert.equal(first['object'], 'chat.completion.chunk');
    assert.equal(first['usage'], null);
    assert.deepEqual(b.text('lo')['choices'], [
      { index: 0, delta: { content: 'lo' }, logprobs: null, finish_reason: null },
    ]);
    assert.deepEqual(b.finish('length')['choices'], [
      { index: 0, delta: {}, logprobs: null, finish_reason: 'length' },
    ]);
    const usage = b.usage({ prompt_tokens: 1, completion_tokens: 2 });
    assert.deepEqual(usage['choices'], []);
    assert.deepEqual(usage['usage'], {
      prompt_tokens: 1,
      completion_tokens: 2,
      total_tokens: 3,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    const plain = new ChunkBuilder(meta('completion'), false).text('a');
    assert.equal(plain['object'], 'text_completion');
    assert.equal('usage' in plain, false);
  });

  it('encodes embeddings as little-endian float32 base64', () => {
    const b64 = float32Base64([1, -0.5]);
    assert.equal(b64, Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0xbf]).toString('base64'));
    const res = embeddingResponse(
      'e',
      view({
        task: 'embed',
        result: { embeddings: [[1, -0.5]] },
        usage: { prompt_tokens: 4, completion_tokens: 0 },
      }),
      'base64',
    );
    assert.deepEqual(res, {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: b64 }],
      model: 'e',
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
  });
});
