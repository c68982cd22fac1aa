import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ClusterConfigSchema } from '@hotpath/contracts';
import {
  compareClusterConfig,
  comparePlan,
  isSaturated,
  MAX_BATCH_SIZE,
  openRate,
  roundRate,
  SYSTEMS,
} from './compare-plan';

const models = { generate: { name: 'g', dir: '/m/small' }, embed: { name: 'e', dir: '/m/tiny-embed' } };

describe('bench compare plan', () => {
  it('names the systems exactly as the JSON schema does', () => {
    assert.deepEqual([...SYSTEMS].sort(), ['hotpath', 'llama.cpp', 'naive', 'ort-direct', 'transformers.js']);
  });

  it('quick runs fewer, shorter levels than the full run, the full run has concurrency 1/4/16/64', () => {
    const quick = comparePlan(true);
    const full = comparePlan(false);
    assert.deepEqual(full.generate.concurrency, [1, 4, 16, 64]);
    assert.ok(quick.generate.concurrency.length < full.generate.concurrency.length);
    assert.ok(quick.generate.durationMs < full.generate.durationMs);
    assert.ok(quick.generate.open.maxSteps < full.generate.open.maxSteps);
  });

  it('open-loop rates rise geometrically from a fraction of the closed-loop saturation', () => {
    const open = { startFactor: 0.5, step: 2, maxSteps: 3 };
    assert.deepEqual(
      [0, 1, 2].map((i) => openRate(10, open, i)),
      [5, 10, 20],
    );
    assert.equal(roundRate(1.2345), 1.2);
    assert.equal(roundRate(123.45), 120);
    assert.equal(roundRate(0.01), 0.1);
  });

  it('calls a level saturated when it completes under 90% of the offered rate or has errors', () => {
    assert.equal(isSaturated(10, 9.5, 0), false);
    assert.equal(isSaturated(10, 8.5, 0), true);
    assert.equal(isSaturated(10, 10, 1), true);
  });

  it('writes valid cluster configs that differ only in batching, with every cache off', () => {
    const naive = ClusterConfigSchema.parse(compareClusterConfig('naive', models));
    const hotpath = ClusterConfigSchema.parse(compareClusterConfig('hotpath', models));
    for (const cfg of [naive, hotpath]) {
      assert.deepEqual(
        cfg.models.map((m) => [
          m.name,
          m.backend,
          m.tasks[0],
          m.replicas,
          m.cache.enabled,
          m.prefix_cache.enabled,
        ]),
        [
          ['g', 'onnx', 'generate', 1, false, false],
          ['e', 'onnx', 'embed', 1, false, false],
        ],
      );
    }
    assert.ok(naive.models.every((m) => !m.batching.enabled));
    assert.ok(
      hotpath.models.every((m) => m.batching.enabled && m.batching.micro.max_batch_size === MAX_BATCH_SIZE),
    );
    const strip = (c: typeof naive): unknown =>
      c.models.map((m) => ({ ...m, batching: { ...m.batching, enabled: null } }));
    assert.deepEqual(strip(naive), strip(hotpath));
  });
});
