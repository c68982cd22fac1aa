import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  E2eCluster,
  REPO_ROOT,
  asError,
  asJob,
  describe,
  fetchMetrics,
  generateJob,
  waitFor,
} from '@hotpath/e2e-harness';

// Variants served side by side: a forged fp32 model and its int8 build (made by the real
// `hotpath models quantize`), each with its own replicas, cache namespace and metrics label.

const cluster = new E2eCluster('variants');
const model = cluster.modelName('tiny');
const sim = cluster.modelName('sim');
const CLI = join(REPO_ROOT, 'apps/cli/dist/main.js');

cluster.hooks(
  {
    models: [
      {
        name: model,
        backend: 'onnx',
        tasks: ['generate'],
        path: 'models/tiny',
        variant: 'fp32',
        variants: [{ name: 'int8', path: 'models/tiny-int8' }],
        concurrency: 8,
      },
      cluster.simModel(sim, {
        tasks: ['generate'],
        sim: { base_ms: 5, per_item_ms: 1, embedding_dim: 8 },
        variants: [{ name: 'fast', sim: { base_ms: 1, per_item_ms: 0, embedding_dim: 8 } }],
        default_variant: 'fast',
      }),
    ],
  },
  {
    // The models are made by the real CLI in the cluster's folder before the processes start.
    start: async () => {
      const run = (...args: string[]): string =>
        execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
      run(
        'models',
        'forge',
        '--arch',
        'llama',
        '--preset',
        'tiny',
        '--seed',
        '1',
        '--out',
        join(cluster.dir, 'models/tiny'),
      );
      run(
        'models',
        'quantize',
        join(cluster.dir, 'models/tiny'),
        '--out',
        join(cluster.dir, 'models/tiny-int8'),
        '--method',
        'int8-weight',
      );
      await cluster.startApiAndWorker();
    },
    startTimeoutMs: 120_000,
  },
);
cluster.test('/v1/models lists every variant, with its parent and the default', async () => {
  const res = await cluster.client.request('GET', '/v1/models');
  assert.equal(res.status, 200, describe(res));
  const data = (
    res.json as { data: { id: string; parent: string | null; hotpath: Record<string, unknown> }[] }
  ).data;
  const own = data.find((m) => m.id === model);
  const int8 = data.find((m) => m.id === `${model}@int8`);
  assert.ok(own && int8, describe(res));
  assert.deepEqual(own.hotpath['variants'], ['fp32', 'int8']);
  assert.equal(own.hotpath['default_variant'], 'fp32');
  assert.equal(int8.parent, model);
  assert.equal(int8.hotpath['variant'], 'int8');
  assert.equal(data.find((m) => m.id === sim)?.hotpath['default_variant'], 'fast');
});

cluster.test('a request picks a variant; each has its own cache namespace and metrics label', async () => {
  const prompt = { prompt: 'variants side by side', params: { max_tokens: 6, temperature: 0 } };
  const base = { ...generateJob(model, prompt), cache: 'default' };
  const fp32 = await cluster.client.submit(base, { preferWaitS: 30 });
  assert.equal(fp32.status, 200, describe(fp32));
  assert.equal(asJob(fp32).model, model);
  const int8 = await cluster.client.submit({ ...base, variant: 'int8' }, { preferWaitS: 30 });
  assert.equal(int8.status, 200, describe(int8));
  assert.equal(asJob(int8).model, `${model}@int8`);
  assert.equal(asJob(int8).status, 'completed', describe(int8));
  assert.notEqual(int8.headers.get('x-cache'), 'hit', 'the fp32 result is not served for int8');
  // The same variant named in the model id is the same served model: a cache hit once the worker
  // has stored the result (it does so right after completing the job).
  const again = await waitFor(
    async () => {
      const r = await cluster.client.submit({ ...base, model: `${model}@int8` }, { preferWaitS: 30 });
      return r.headers.get('x-cache') === 'hit' ? r : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 200, what: 'a cache hit for the int8 variant' },
  );
  assert.deepEqual(asJob(again).result, asJob(int8).result);
  const text = await fetchMetrics(cluster.workerHandles()[0]?.metricsUrl as string);
  assert.match(text, new RegExp(`model="${model}@int8"`), 'worker metrics carry the variant');
});

cluster.test(
  'the default variant applies without one; an unknown variant is a 404 naming the choices',
  async () => {
    const res = await cluster.client.submit(generateJob(sim, { prompt: 'x' }), { preferWaitS: 10 });
    assert.equal(res.status, 200, describe(res));
    assert.equal(asJob(res).model, `${sim}@fast`);
    const base = await cluster.client.submit(
      { ...generateJob(sim, { prompt: 'x' }), variant: 'base' },
      { preferWaitS: 10 },
    );
    assert.equal(asJob(base).model, sim);
    const bad = await cluster.client.submit({ ...generateJob(model, { prompt: 'x' }), variant: 'int3' });
    assert.equal(bad.status, 404, describe(bad));
    const err = asError(bad);
    assert.equal(err.code, 'model_not_found');
    assert.equal(err.param, 'variant');
    assert.match(err.message, /fp32, int8/);
  },
);
