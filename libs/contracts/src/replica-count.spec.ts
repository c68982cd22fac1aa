import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ModelConfigSchema, replicaCount } from './cluster-config.schema';

describe('replicas: auto', () => {
  const parse = (extra: Record<string, unknown>) =>
    ModelConfigSchema.parse({ name: 'm', backend: 'onnx', path: '/m', ...extra });

  it('is the default, and means one replica per core for an onnx model on the CPU', () => {
    const m = parse({});
    assert.equal(m.replicas, 'auto');
    assert.equal(replicaCount(m, 2), 2);
    assert.equal(replicaCount(m, 8), 8);
    assert.equal(replicaCount(m, 1), 1);
    assert.equal(replicaCount(m, 500), 64, 'capped at the schema maximum');
  });

  it('never plans more replicas than fit in memory, and at least one', () => {
    const m = parse({});
    assert.equal(
      replicaCount(m, 16, () => 3.7),
      3,
    );
    assert.equal(
      replicaCount(m, 2, () => 40),
      2,
    );
    assert.equal(
      replicaCount(m, 16, () => 0.4),
      1,
    );
  });

  it('means one replica on CUDA and for sim', () => {
    assert.equal(replicaCount(parse({ execution: { providers: ['cuda', 'cpu'] } }), 8), 1);
    assert.equal(replicaCount(ModelConfigSchema.parse({ name: 's', backend: 'sim' }), 8), 1);
  });

  it('leaves an explicit count alone and rejects anything else', () => {
    assert.equal(replicaCount(parse({ replicas: 3 }), 8), 3);
    assert.equal(parse({ replicas: 'auto' }).replicas, 'auto');
    assert.equal(ModelConfigSchema.safeParse({ name: 'm', backend: 'onnx', replicas: 0 }).success, false);
    assert.equal(ModelConfigSchema.safeParse({ name: 'm', backend: 'onnx', replicas: 'all' }).success, false);
  });
});
