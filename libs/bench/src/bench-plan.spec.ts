import { strict as assert } from 'node:assert';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ClusterConfigSchema, replicaCount } from '@hotpath/contracts';
import { jobBody, ttftFrom } from './bench-client';
import { parseBatchingBenchOptions } from './bench-options';
import { benchClusterConfig, modelName, ratesFrom, scenarioPlans } from './bench-plan';

const models = { suffix: '', smallDir: '/m/small', embedDir: '/m/tiny-embed' };

describe('bench cluster config', () => {
  it('differs between modes only in batching.enabled, and validates', () => {
    const off = ClusterConfigSchema.parse(benchClusterConfig('off', ['generate', 'embed', 'sim'], models));
    const on = ClusterConfigSchema.parse(benchClusterConfig('on', ['generate', 'embed', 'sim'], models));
    assert.deepEqual(
      off.models.map((m) => m.name),
      ['small', 'tiny-embed', 'sim'],
    );
    assert.ok(off.models.every((m) => !m.batching.enabled));
    assert.ok(on.models.every((m) => m.batching.enabled));
    const strip = (c: typeof on) =>
      c.models.map((m) => ({ ...m, batching: { ...m.batching, enabled: null } }));
    assert.deepEqual(strip(off), strip(on));
    assert.equal(on.api.max_wait_s, 120, 'Prefer: wait=120 is honoured');
  });

  it('uses the documented latency model for sim and lets batches fill', () => {
    const on = ClusterConfigSchema.parse(
      benchClusterConfig('on', ['sim', 'generate'], { ...models, suffix: 'x1' }),
    );
    const sim = on.models.find((m) => m.backend === 'sim');
    assert.equal(sim?.name, 'sim-x1');
    assert.deepEqual(sim && { base: sim.sim.base_ms, per: sim.sim.per_item_ms }, { base: 5, per: 0.5 });
    for (const m of on.models) {
      assert.ok(
        m.concurrency >= m.batching.micro.max_batch_size * replicaCount(m, availableParallelism()),
        `${m.name} concurrency`,
      );
      assert.equal(m.cache.enabled, false);
    }
    assert.equal(on.models.find((m) => m.backend === 'onnx')?.path, '/m/small');
  });

  it('names models per scenario with an optional run suffix', () => {
    assert.equal(modelName('generate', ''), 'small');
    assert.equal(modelName('embed', 'b12'), 'tiny-embed-b12');
  });
});

describe('bench plan', () => {
  it('keeps quick runs small and runs generate at the documented levels otherwise', () => {
    assert.deepEqual(scenarioPlans(false).generate.concurrency, [1, 4, 16, 32]);
    assert.equal(scenarioPlans(false).generate.maxTokens, 64);
    const quick = scenarioPlans(true);
    for (const p of Object.values(quick)) assert.ok(p.concurrency.length <= 4 && p.durationMs <= 5000);
    // Batched modes need many clients to reach saturation: the quick plan still drives them there.
    assert.equal(Math.max(...quick.sim.concurrency), 256);
    assert.equal(Math.max(...quick.embed.concurrency), 128);
  });

  it('derives open-loop rates from a saturation throughput', () => {
    assert.deepEqual(ratesFrom(183.7, [0.5, 2]), [92, 370]);
    assert.deepEqual(ratesFrom(0.01, [1]), [1]);
    assert.deepEqual(ratesFrom(0, [2]), [1]);
  });
});

describe('bench requests', () => {
  it('bypasses the cache and varies the input', () => {
    const a = jobBody({ model: 'sim', task: 'generate', maxTokens: 16 }, 1);
    const b = jobBody({ model: 'sim', task: 'generate', maxTokens: 16 }, 2);
    assert.equal(a['cache'], 'bypass');
    assert.deepEqual(a['params'], { max_tokens: 16, temperature: 0 });
    assert.notDeepEqual(a['input'], b['input']);
    assert.deepEqual(Object.keys(jobBody({ model: 'e', task: 'embed' }, 0)['input'] as object), ['texts']);
  });

  it('reads TTFT only from timings that carry it', () => {
    assert.equal(ttftFrom({ timings_ms: { queue: 1, total: 9 } }), undefined);
    assert.equal(ttftFrom({ timings_ms: { ttft: 12.5 } }), 12.5);
    assert.equal(ttftFrom({}), undefined);
  });
});

describe('bench options', () => {
  const parse = (argv: string[], env = {}) => parseBatchingBenchOptions(argv, env, false, '/w');

  it('defaults to every scenario, off before on, no files', () => {
    const o = parse([]);
    assert.deepEqual(o.scenarios, ['generate', 'embed', 'sim']);
    assert.deepEqual(o.modes, ['off', 'on']);
    assert.equal(o.quick, false);
    assert.equal(o.dataDir, '/w/.hotpath');
    assert.equal(o.outFile, undefined);
    assert.equal(o.interactive, false);
  });

  it('reads the visible and the narrowing flags', () => {
    const o = parse(
      [
        '--quick',
        '--out',
        'out/r.json',
        '--svg=/tmp/c.svg',
        '--scenarios',
        'sim,embed',
        '--modes',
        'on,off',
        '--levels',
        '1,4',
        '--rates',
        'none',
        '--duration-ms',
        '1500',
      ],
      { HOTPATH_DATA_DIR: '/data' },
    );
    assert.equal(o.quick, true);
    assert.equal(o.outFile, '/w/out/r.json');
    assert.equal(o.svgFile, '/tmp/c.svg');
    assert.deepEqual(o.scenarios, ['embed', 'sim']);
    assert.deepEqual(o.modes, ['off', 'on']);
    assert.deepEqual(o.levels, [1, 4]);
    assert.deepEqual(o.rates, []);
    assert.equal(o.durationMs, 1500);
    assert.equal(o.dataDir, '/data');
  });

  it('refuses bad values', () => {
    assert.throws(() => parse(['--scenarios', 'video']), /unknown value "video"/);
    assert.throws(() => parse(['--levels', '0']), /--levels/);
    assert.throws(() => parse(['--duration-ms', '5']), /--duration-ms/);
    assert.throws(() => parse(['--nope']), /nope/);
  });
});
