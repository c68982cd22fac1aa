import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelConfigSchema, type QueuedEmbedJob, type QueuedGenerateJob } from '@hotpath/contracts';
import { createLogger, createMetrics } from '@hotpath/telemetry';
import type { TokenEvent } from './inference-backend';
import { backendEmbedJob, backendGenerateJob } from '../testing/worker-test-kit';
import { OnnxBackend } from './onnx-backend';

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
    const backend = new OnnxBackend(config, { logger, metrics: createMetrics('hotpath-worker') });
    await backend.start();
    try {
      const job = backendGenerateJob('tiny', 'hello there', { temperature: 0 });
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
        { ...job, params: { max_tokens: 500, temperature: 0 } },
        {
          signal: ac.signal,
          onToken: (t) => t.index === 4 && ac.abort(),
        },
      );
      assert.equal(cancelled.result.finish_reason, 'cancelled');
      // The abort crosses two thread hops (token to the main thread, abort back), and the replica
      // stops at the next token boundary after it arrives: a few to a few dozen tokens later on a
      // model this small (tens of microseconds a token), never the whole budget.
      assert.ok(cancelled.result.tokens.length >= 5 && cancelled.result.tokens.length < 500);
    } finally {
      await backend.close();
    }
  });

  it('batches concurrent generations: same greedy tokens as alone, truthful batch stats', async () => {
    const make = (enabled: boolean): OnnxBackend =>
      new OnnxBackend(
        ModelConfigSchema.parse({
          name: 'tiny',
          backend: 'onnx',
          tasks: ['generate'],
          path: join(tmp, 'tiny-batch'),
          forge: { arch: 'llama', preset: 'tiny', seed: 3 },
          replicas: 1,
          batching: { enabled, continuous: { max_running_sequences: 4 } },
        }),
        { logger, metrics: createMetrics('hotpath-worker') },
      );
    const prompts = ['hello there', 'x', 'a longer prompt with several more words', 'ok', 'the fox', 'b'];
    const job = (prompt: string): QueuedGenerateJob =>
      backendGenerateJob('tiny', prompt, { max_tokens: 12, temperature: 0 });
    const live = { signal: new AbortController().signal };
    for (const enabled of [true, false]) {
      const backend = make(enabled);
      await backend.start();
      try {
        assert.match(backend.digest ?? '', /\S/);
        const solo: number[][] = [];
        for (const p of prompts) solo.push((await backend.generate(job(p), live)).result.tokens);
        const outs = await Promise.all(prompts.map((p) => backend.generate(job(p), live)));
        outs.forEach((o, i) => assert.deepEqual(o.result.tokens, solo[i], `prompt ${i}`));
        const sizes = outs.map((o) => o.batchSize);
        if (enabled) {
          assert.ok(Math.max(...sizes) > 1 && Math.max(...sizes) <= 4, `sizes ${sizes.join(',')}`);
          // Six sequences, four slots: the last two waited for a slot.
          assert.ok(Math.max(...outs.map((o) => o.batchWaitMs)) > 0);
        } else {
          assert.deepEqual(
            sizes,
            prompts.map(() => 1),
          );
          assert.ok((outs[5]?.batchWaitMs ?? 0) >= (outs[0]?.inferenceMs ?? 0));
        }
      } finally {
        await backend.close();
      }
    }
  });

  it('micro-batches concurrent embed jobs into one call with the same embeddings as alone', async () => {
    const make = (enabled: boolean): OnnxBackend =>
      new OnnxBackend(
        ModelConfigSchema.parse({
          name: 'tiny-embed',
          backend: 'onnx',
          tasks: ['embed'],
          path: join(tmp, 'embed-batch'),
          forge: { arch: 'bert', preset: 'tiny-embed', seed: 1 },
          batching: { enabled, micro: { max_batch_size: 8, max_queue_delay_ms: 50 } },
        }),
        { logger, metrics: createMetrics('hotpath-worker') },
      );
    const texts = [['a'], ['b c', 'a much longer text with many words'], ['d e f'], ['g']];
    const job = (t: string[]): QueuedEmbedJob => backendEmbedJob('tiny-embed', t);
    const live = { signal: new AbortController().signal };
    const off = make(false);
    await off.start();
    let solo: number[][][];
    try {
      solo = [];
      for (const t of texts) {
        const out = await off.embed(job(t), live);
        assert.equal(out.batchSize, t.length);
        solo.push(out.result.embeddings);
      }
    } finally {
      await off.close();
    }
    const on = make(true);
    await on.start();
    try {
      const outs = await Promise.all(texts.map((t) => on.embed(job(t), live)));
      // The first job finds the replica idle and runs at once; the others arrive while it runs
      // and share the next call.
      assert.equal(outs[0]?.batchSize, 1, 'an idle replica takes a lone job at once');
      outs.forEach((o, i) => {
        if (i > 0) assert.equal(o.batchSize, 4, 'the other four texts in one call');
        assert.equal(o.usage?.prompt_tokens !== undefined && o.usage.prompt_tokens > 0, true);
        o.result.embeddings.forEach((e, j) => {
          const ref = solo[i]?.[j] ?? [];
          assert.equal(e.length, ref.length);
          e.forEach((x, k) => assert.ok(Math.abs(x - (ref[k] ?? NaN)) < 1e-5, `job ${i} text ${j} dim ${k}`));
        });
      });
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(on.embed(job(['z']), { signal: ac.signal }), { code: 'cancelled' });
    } finally {
      await on.close();
    }
  });

  it('reports each replica busy ratio from its busy time', async () => {
    const metrics = createMetrics('hotpath-worker');
    const config = ModelConfigSchema.parse({
      name: 'tiny-busy',
      backend: 'onnx',
      tasks: ['generate'],
      path: join(tmp, 'tiny-busy'),
      forge: { arch: 'llama', preset: 'tiny', seed: 2 },
      replicas: 1,
    });
    const backend = new OnnxBackend(config, { logger, metrics });
    await backend.start();
    try {
      const job = backendGenerateJob('tiny-busy', 'keep me busy', { max_tokens: 64, temperature: 0 });
      const deadline = Date.now() + 2600; // one sampling period (2 s) and margin
      while (Date.now() < deadline) await backend.generate(job, { signal: new AbortController().signal });
      const gauge = (await metrics.replicaBusyRatio.get()).values.find(
        (v) => v.labels['model'] === 'tiny-busy' && v.labels['replica'] === '0',
      );
      assert.ok(gauge, 'hotpath_replica_busy_ratio{model,replica} is set');
      assert.ok(gauge.value > 0.2 && gauge.value <= 1, `busy ratio ${gauge.value} of a replica kept busy`);
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
    const backend = new OnnxBackend(config, { logger, metrics: createMetrics('hotpath-worker') });
    await backend.start();
    try {
      const job = backendEmbedJob('tiny-embed', ['a', 'b c']);
      const out = await backend.embed(job, { signal: new AbortController().signal });
      assert.equal(out.result.embeddings.length, 2);
      assert.equal(out.result.embeddings[0]?.length, 128);
      assert.equal(out.result.truncated, undefined, 'nothing was cut');

      // Longer than the encoder's context: usage counts what was embedded, and the cut is reported.
      const context = 512;
      const long = { ...job, input: { texts: ['a', 'word '.repeat(2000)] } };
      const cut = await backend.embed(long, { signal: new AbortController().signal });
      assert.deepEqual(cut.result.truncated, [1]);
      const used = cut.usage?.prompt_tokens ?? 0;
      assert.ok(used <= context + 3, `prompt_tokens ${used}`);
      assert.ok(used > context, `prompt_tokens ${used}`);
    } finally {
      await backend.close();
    }
  });
});
