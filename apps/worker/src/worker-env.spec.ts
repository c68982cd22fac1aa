import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ClusterConfigSchema, HotpathError } from '@hotpath/contracts';
import { parseWorkerEnv, workerOptionsFromEnv } from './worker-env';
import { planServedQueues } from './startup/served-queues';

const base = { REDIS_URL: 'redis://127.0.0.1:6379' };

describe('worker environment', () => {
  it('applies defaults', () => {
    const env = parseWorkerEnv(base);
    assert.equal(env.METRICS_PORT, 9464);
    assert.equal(env.METRICS_HOST, '0.0.0.0');
    assert.equal(env.WORKER_SHARDS, 'all');
    assert.equal(env.HOTPATH_RESULT_TTL_S, 3600);
    assert.equal(env.WORKER_CPU_PLACEMENT, 'off', 'several workers on one host must not pin the same cores');
    const cluster = ClusterConfigSchema.parse({ models: [{ name: 'a', backend: 'sim' }] });
    assert.match(workerOptionsFromEnv(env, cluster).workerId, /-\d+$/);
  });

  it('names every bad variable', () => {
    assert.throws(
      () =>
        parseWorkerEnv({ ...base, WORKER_SHARDS: 'tiny:x', METRICS_PORT: 'abc', WORKER_CPU_PLACEMENT: 'on' }),
      (e: unknown) =>
        e instanceof HotpathError &&
        e.code === 'invalid_config' &&
        /WORKER_SHARDS/.test(e.message) &&
        /METRICS_PORT/.test(e.message) &&
        /WORKER_CPU_PLACEMENT/.test(e.message),
    );
    assert.throws(() => parseWorkerEnv({}), /REDIS_URL/);
  });

  it('plans the served shard queues and refuses useless selections', () => {
    const cluster = ClusterConfigSchema.parse({
      models: [
        { name: 'a', backend: 'sim', shards: 2 },
        { name: 'b', backend: 'sim', shards: 3 },
      ],
    });
    const env = parseWorkerEnv({ ...base, WORKER_SHARDS: 'a:1,b:0+2' });
    assert.deepEqual(
      planServedQueues(cluster, env.WORKER_SHARDS).map((q) => q.name),
      ['{a:1}', '{b:0}', '{b:2}'],
    );
    assert.throws(
      () => planServedQueues(cluster, parseWorkerEnv({ ...base, WORKER_SHARDS: 'c:0' }).WORKER_SHARDS),
      /unknown model "c"/,
    );
    assert.throws(
      () => planServedQueues(cluster, parseWorkerEnv({ ...base, WORKER_SHARDS: 'a:5' }).WORKER_SHARDS),
      /no shard queue/,
    );
  });
});
