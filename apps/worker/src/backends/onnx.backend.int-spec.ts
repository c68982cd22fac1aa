import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelConfigSchema, type QueuedEmbedJob, type QueuedGenerateJob } from '@hotpath/contracts';
import { createLogger } from '@hotpath/telemetry';
import type { TokenEvent } from './inference-backend';
import { OnnxBackend } from './onnx.backend';

const common = {
  id: 'j',
  tenant: 't',
  priority: 'normal',
  shard: 0,
  deadline_at: null,
  enqueued_at: 0,
} as const;
const logger = createLogger('hotpath-worker', 'error');

describe('OnnxBackend', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-onnx-backend-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('forges a missing folder, generates with streaming and cancellation, closes', async () => {
    const config = ModelConfigSchema.parse({
      name: 'tiny',
      backend: 'onnx',
      tasks: ['generate'],
      path: join(tmp, 'tiny'),
      forge: { arch: 'llama', preset: 'tiny', seed: 2 },
      replicas: 1,
      default_max_tokens: 8,
    });
    const backend = new OnnxBackend(config, { logger });
    await backend.start();
    try {
      const job: QueuedGenerateJob = {
        ...common,
        model: 'tiny',
        task: 'generate',
        input: { prompt: 'hello there' },
        params: { temperature: 0 },
      };
      const seen: TokenEvent[] = [];
      const out = await backend.generate(job, {
        signal: new AbortController().signal,
        onToken: (t) => seen.push(t),
      });
      assert.equal(out.result.tokens.length, 8);
      assert.equal(out.result.finish_reason, 'length');
      assert.deepEqual(
        seen.map((t) => t.token_id),
        out.result.tokens,
      );
      assert.equal(seen.map((t) => t.text).join(''), out.result.text);
      assert.equal(out.usage?.completion_tokens, 8);
      const ac = new AbortController();
      const cancelled = await backend.generate(
        { ...job, params: { max_tokens: 300, temperature: 0 } },
        {
          signal: ac.signal,
          onToken: (t) => t.index === 4 && ac.abort(),
        },
      );
      assert.equal(cancelled.result.finish_reason, 'cancelled');
      // The abort crosses a thread boundary: the replica stops at the next token it sees it.
      assert.ok(cancelled.result.tokens.length >= 5 && cancelled.result.tokens.length < 20);
    } finally {
      await backend.close();
    }
  });

  it('embeds with a forged tiny-embed encoder', async () => {
    const config = ModelConfigSchema.parse({
      name: 'tiny-embed',
      backend: 'onnx',
      tasks: ['embed'],
      path: join(tmp, 'embed'),
      forge: { arch: 'bert', preset: 'tiny-embed', seed: 1 },
    });
    const backend = new OnnxBackend(config, { logger });
    await backend.start();
    try {
      const job: QueuedEmbedJob = {
        ...common,
        model: 'tiny-embed',
        task: 'embed',
        input: { texts: ['a', 'b c'] },
        params: {},
      };
      const out = await backend.embed(job, { signal: new AbortController().signal });
      assert.equal(out.result.embeddings.length, 2);
      assert.equal(out.result.embeddings[0]?.length, 128);
    } finally {
      await backend.close();
    }
  });
});
