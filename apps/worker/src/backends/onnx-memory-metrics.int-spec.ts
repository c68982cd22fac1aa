import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelConfigSchema, type QueuedGenerateJob } from '@hotpath/contracts';
import { createLogger, createMetrics } from '@hotpath/telemetry';
import { backendGenerateJob, eventually, metricValue } from '../testing/worker-test-kit';
import { OnnxBackend } from './onnx-backend';

const logger = createLogger('hotpath-worker', 'error');
const MODEL = 'tiny-memory';

const job = (prompt: string, maxTokens: number): QueuedGenerateJob =>
  backendGenerateJob(MODEL, prompt, { temperature: 0, max_tokens: maxTokens });

/** Waits for a report: a replica posts its numbers at most once a second, when they changed. */
const until = (what: string, check: () => Promise<boolean>): Promise<void> => eventually(check, 15_000, what);

// Real replica threads on real onnxruntime: what the KV arena and the prefix cache hold lives in
// the replica thread, and reaches the worker's metrics only through the replicas' stats messages.
describe('OnnxBackend KV-arena and prefix-cache metrics', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-onnx-memory-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const base = {
    name: MODEL,
    backend: 'onnx',
    tasks: ['generate'],
    path: join(tmp, 'tiny'),
    forge: { arch: 'llama', preset: 'tiny', seed: 3 },
    replicas: 1,
  } as const;
  const replica = { model: MODEL, replica: '0' };
  const prompt = (topic: string) =>
    `A long system prompt about ${topic} that many requests share, followed by a question about it?`;
  let blockBytes = 0;

  it('exports arena slots and bytes, re-layouts, and prefix-cache blocks and bytes after a generation', async () => {
    const metrics = createMetrics('hotpath-worker');
    const config = ModelConfigSchema.parse({
      ...base,
      // The arena engine (auto would serve a model this small on the WASM engine, which never re-lays out).
      execution: { engine: 'arena' },
      prefix_cache: { block_tokens: 8, max_bytes: 1 << 20 },
    });
    const backend = new OnnxBackend(config, { logger, metrics });
    await backend.start();
    try {
      // Before any job: the arena's slots are known (the replica's max running sequences), none used.
      await until(
        'the arena slots',
        async () => (await metricValue(metrics, 'hotpath_kv_arena_slots', replica)) > 0,
      );
      assert.equal(
        await metricValue(metrics, 'hotpath_kv_arena_slots', replica),
        config.batching.continuous.max_running_sequences,
      );
      assert.equal(await metricValue(metrics, 'hotpath_kv_arena_slots_used', replica), 0);
      assert.equal(await metricValue(metrics, 'hotpath_prefix_cache_blocks', replica), 0);

      // Prompt and output together pass the arena's first capacity step (32 positions): it grows.
      const out = await backend.generate(job(prompt('gardens'), 48), {
        signal: new AbortController().signal,
      });
      assert.ok(out.usage && out.usage.prompt_tokens + out.usage.completion_tokens > 32);
      await until(
        'the prefix cache to report its blocks',
        async () => (await metricValue(metrics, 'hotpath_prefix_cache_blocks', replica)) > 0,
      );
      const blocks = await metricValue(metrics, 'hotpath_prefix_cache_blocks', replica);
      const bytes = await metricValue(metrics, 'hotpath_prefix_cache_bytes', replica);
      assert.equal(blocks, Math.floor(out.usage.prompt_tokens / 8), 'every whole block of the prompt');
      assert.ok(bytes > 0 && bytes <= 1 << 20, `prefix cache bytes ${bytes}`);
      blockBytes = bytes / blocks;
      assert.ok(Number.isInteger(blockBytes), 'blocks have one size');
      assert.equal(
        await metricValue(metrics, 'hotpath_kv_arena_slots_used', replica),
        0,
        'the sequence left',
      );
      assert.ok((await metricValue(metrics, 'hotpath_kv_arena_bytes', replica)) > 0);
      assert.ok((await metricValue(metrics, 'hotpath_kv_arena_relayouts_total', { model: MODEL })) >= 1);
      assert.equal(await metricValue(metrics, 'hotpath_prefix_cache_evictions_total', { model: MODEL }), 0);
    } finally {
      await backend.close();
    }
    // A closed model's replicas are gone: so are their series.
    const left = (await metrics.kvArenaSlots.get()).values.filter((v) => v.labels['model'] === MODEL);
    assert.deepEqual(left, []);
  });

  it('exports the WASM engine KV slots: all their bytes from the start, never a re-layout', async () => {
    const metrics = createMetrics('hotpath-worker');
    const config = ModelConfigSchema.parse({ ...base, prefix_cache: { enabled: false } });
    const backend = new OnnxBackend(config, { logger, metrics });
    await backend.start();
    try {
      await until(
        'the KV slots',
        async () => (await metricValue(metrics, 'hotpath_kv_arena_slots', replica)) > 0,
      );
      const slots = config.batching.continuous.max_running_sequences;
      assert.equal(await metricValue(metrics, 'hotpath_kv_arena_slots', replica), slots);
      // Forged tiny: 5 layers × keys and values × 2 KV heads × 512 positions × head size 16 × 4 bytes a slot.
      const slotBytes = 5 * 2 * 2 * 512 * 16 * 4;
      assert.equal(await metricValue(metrics, 'hotpath_kv_arena_bytes', replica), slots * slotBytes);
      await backend.generate(job(prompt('rivers'), 48), { signal: new AbortController().signal });
      assert.equal(await metricValue(metrics, 'hotpath_kv_arena_slots_used', replica), 0);
      assert.equal(await metricValue(metrics, 'hotpath_kv_arena_relayouts_total', { model: MODEL }), 0);
    } finally {
      await backend.close();
    }
  });

  it('counts prefix-cache evictions when prompts outgrow max_bytes', async () => {
    assert.ok(blockBytes > 0, 'the first test measured a block');
    const metrics = createMetrics('hotpath-worker');
    const maxBytes = blockBytes * 3;
    const backend = new OnnxBackend(
      ModelConfigSchema.parse({ ...base, prefix_cache: { block_tokens: 8, max_bytes: maxBytes } }),
      { logger, metrics },
    );
    await backend.start();
    try {
      const signal = new AbortController().signal;
      for (const topic of ['rivers', 'mountains', 'cities'])
        await backend.generate(job(prompt(topic), 2), { signal });
      await until(
        'an eviction to be reported',
        async () =>
          (await metricValue(metrics, 'hotpath_prefix_cache_evictions_total', { model: MODEL })) > 0,
      );
      assert.ok((await metricValue(metrics, 'hotpath_prefix_cache_bytes', replica)) <= maxBytes);
      assert.ok((await metricValue(metrics, 'hotpath_prefix_cache_blocks', replica)) <= 3);
    } finally {
      await backend.close();
    }
  });
});
