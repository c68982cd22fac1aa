import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseSse, SseDecoder } from './sse';

describe('SSE decoder', () => {
  it('parses events split across arbitrary chunks, skipping comments', () => {
    const text =
      ': keep-alive\n\nid: 1-0\nevent: status\ndata: {"status":"running"}\n\n' +
      'id: 2-0\r\nevent: token\r\ndata: {"index":0}\r\n\r\nevent: done\ndata: {"a":\ndata: 1}\n\n';
    for (const size of [1, 3, 7, text.length]) {
      const p = new SseDecoder();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...p.feed(text.slice(i, i + size)));
      assert.deepEqual(
        events.map(({ raw: _raw, ...e }) => e),
        [
          { event: 'status', data: '{"status":"running"}', id: '1-0' },
          { event: 'token', data: '{"index":0}', id: '2-0' },
          { event: 'done', data: '{"a":\n1}' },
        ],
      );
    }
  });

  it('keeps data-only events (OpenAI streams) and their wire framing', () => {
    const events = parseSse('data: {"x":1}\n\n: ping\n\ndata: [DONE]\n\n');
    assert.deepEqual(events, [
      { data: '{"x":1}', raw: 'data: {"x":1}' },
      { data: '[DONE]', raw: 'data: [DONE]' },
    ]);
  });
});
