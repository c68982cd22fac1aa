import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelConfigSchema, type QueuedGenerateJob } from '@hotpath/contracts';
import { createLogger, createMetrics } from '@hotpath/telemetry';
import { backendGenerateJob, metricValue } from '../testing/worker-test-kit';
import { OnnxBackend } from './onnx-backend';

const logger = createLogger('hotpath-worker', 'error');

const job = (prompt: string): QueuedGenerateJob =>
  backendGenerateJob('tiny-prefix', prompt, { temperature: 0, max_tokens: 6 });

describe('OnnxBackend prefix KV cache', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-onnx-prefix-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('reports prefix hits per job and in the worker metrics, with the cold tokens', async () => {
    const base = {
      name: 'tiny-prefix',
      backend: 'onnx',
      tasks: ['generate'],
      path: join(tmp, 'tiny'),
      forge: { arch: 'llama', preset: 'tiny', seed: 2 },
      replicas: 1,
    } as const;
    const prompt = 'A long shared system prompt that many requests start with, then: a question';
    const cold = new OnnxBackend(ModelConfigSchema.parse({ ...base, prefix_cache: { enabled: false } }), {
      logger,
      metrics: createMetrics('hotpath-worker'),
    });
    await cold.start();
    let coldTokens: number[];
    try {
      coldTokens = (await cold.generate(job(prompt), { signal: new AbortController().signal })).result.tokens;
    } finally {
      await cold.close();
    }

    const metrics = createMetrics('hotpath-worker');
    const backend = new OnnxBackend(
      ModelConfigSchema.parse({ ...base, prefix_cache: { block_tokens: 8, max_bytes: 1 << 20 } }),
      { logger, metrics },
    );
    await backend.start();
    try {
      const signal = new AbortController().signal;
      const first = await backend.generate(job(prompt), { signal });
      assert.equal(first.prefixHitTokens, 0);
      const second = await backend.generate(job(prompt), { signal });
      assert.ok((second.prefixHitTokens ?? 0) >= 8, `hit ${second.prefixHitTokens}`);
      // The job's usage reports them (OpenAI's usage.prompt_tokens_details.cached_tokens).
      assert.equal(first.usage?.cached_tokens, 0);
      assert.equal(second.usage?.cached_tokens, second.prefixHitTokens);
      assert.deepEqual(first.result.tokens, coldTokens);
      assert.deepEqual(second.result.tokens, coldTokens);
      const labels = { model: 'tiny-prefix' };
      assert.equal(
        await metricValue(metrics, 'hotpath_prefix_cache_hit_tokens_total', labels),
        second.prefixHitTokens,
      );
      assert.equal(
        await metricValue(metrics, 'hotpath_prefix_cache_lookups_total', { ...labels, result: 'hit' }),
        1,
      );
      assert.equal(
        await metricValue(metrics, 'hotpath_prefix_cache_lookups_total', { ...labels, result: 'miss' }),
        1,
      );
    } finally {
      await backend.close();
    }
  });
});
