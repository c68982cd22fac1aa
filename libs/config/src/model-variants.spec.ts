import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { HotpathError } from '@hotpath/contracts';
import { findModel, parseClusterConfig, variantNames } from './cluster-config.loader';

const parse = (models: unknown[]) => parseClusterConfig({ models }, 'test', '/cfg');

describe('model variants', () => {
  const config = parse([
    {
      name: 'small',
      backend: 'onnx',
      path: 'models/small',
      variant: 'fp32',
      replicas: 2,
      execution: { intra_op_threads: 2 },
      variants: [
        { name: 'int8', path: 'models/small-int8', replicas: 1 },
        { name: 'q4', dtype: 'q4' },
      ],
      default_variant: 'int8',
    },
  ]);

  it('each variant is a served entry with the parent settings under the variant name', () => {
    assert.deepEqual(
      config.models.map((m) => m.name),
      ['small', 'small@int8', 'small@q4'],
    );
    const int8 = config.models[1];
    assert.equal(int8?.path, '/cfg/models/small-int8');
    assert.equal(int8?.replicas, 1);
    assert.equal(int8?.execution.intra_op_threads, 2, 'sections not given are the parent’s');
    assert.equal(int8?.variant_of, 'small');
    assert.equal(config.models[2]?.path, '/cfg/models/small', 'a dtype variant shares the folder');
    assert.equal(config.models[2]?.dtype, 'q4');
    assert.equal(variantNames(config, config.models[0]!), 'fp32, int8, q4');
  });

  it('routes a model name, a variant field and a model@variant id', () => {
    assert.equal(findModel(config, 'small')?.name, 'small@int8', 'the default variant');
    assert.equal(findModel(config, 'small', 'fp32')?.name, 'small');
    assert.equal(findModel(config, 'small@q4')?.name, 'small@q4');
    assert.equal(findModel(config, 'small@fp32')?.name, 'small');
    assert.equal(findModel(config, 'small@q4', 'int8'), undefined, 'two different variants named');
    assert.equal(findModel(config, 'small', 'nope'), undefined);
    assert.equal(findModel(config, 'other'), undefined);
  });

  it('refuses duplicate variants, an unknown default and an onnx variant with nothing of its own', () => {
    const refused = (models: unknown[]): string => {
      try {
        parse(models);
      } catch (err) {
        assert.ok(err instanceof HotpathError);
        assert.equal(err.code, 'invalid_config');
        return err.message;
      }
      return assert.fail('accepted');
    };
    const base = { name: 'm', backend: 'onnx', path: 'p' };
    assert.match(refused([{ ...base, variants: [{ name: 'base', path: 'q' }] }]), /duplicate variant "base"/);
    assert.match(refused([{ ...base, default_variant: 'x' }]), /"x" is not a variant of "m"/);
    assert.match(refused([{ ...base, variants: [{ name: 'v' }] }]), /needs its own path, dtype or onnx_file/);
    assert.match(refused([{ ...base, variants: [{ name: 'Bad Name', path: 'q' }] }]), /variants\.0\.name/);
  });
});
