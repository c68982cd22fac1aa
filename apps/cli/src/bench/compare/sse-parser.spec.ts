import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { SseParser } from './sse-parser';

describe('SSE parser', () => {
  it('parses events split across arbitrary chunks, skipping comments', () => {
    const text =
      ': keep-alive\n\nid: 1-0\nevent: status\ndata: {"status":"running"}\n\n' +
      'id: 2-0\r\nevent: token\r\ndata: {"index":0}\r\n\r\nevent: done\ndata: {"a":\ndata: 1}\n\n';
    for (const size of [1, 3, 7, text.length]) {
      const p = new SseParser();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...p.feed(text.slice(i, i + size)));
      assert.deepEqual(events, [
        { event: 'status', data: '{"status":"running"}', id: '1-0' },
        { event: 'token', data: '{"index":0}', id: '2-0' },
        { event: 'done', data: '{"a":\n1}' },
      ]);
    }
  });
});
