import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ModelConfigSchema } from '@hotpath/contracts';
import { batchCapacityWarning } from './batch-capacity';
import { shouldSteal, thiefConcurrency } from './work-stealer';

describe('work stealing decision', () => {
  it('steals only when the own shards are empty and own slots are free', () => {
    assert.equal(shouldSteal({ ownBacklog: 0, ownInFlight: 0, ownCapacity: 16 }), true);
    assert.equal(shouldSteal({ ownBacklog: 0, ownInFlight: 15, ownCapacity: 16 }), true);
    assert.equal(shouldSteal({ ownBacklog: 0, ownInFlight: 16, ownCapacity: 16 }), false);
    assert.equal(shouldSteal({ ownBacklog: 1, ownInFlight: 0, ownCapacity: 16 }), false);
  });

  it('splits one shard worth of concurrency over the thieves', () => {
    assert.equal(thiefConcurrency(16, 1), 16);
    assert.equal(thiefConcurrency(16, 3), 6);
    assert.equal(thiefConcurrency(2, 7), 1);
  });
});

describe('batch capacity check', () => {
  const model = (
    concurrency: number,
    replicas: number,
    batching: { enabled?: boolean; max_batch_size?: number },
  ) => ModelConfigSchema.parse({ name: 'm', backend: 'sim', concurrency, replicas, batching });

  it('is quiet when the worker can hold full batches on every replica', () => {
    assert.equal(batchCapacityWarning(model(16, 1, {}), 1), undefined);
    assert.equal(batchCapacityWarning(model(16, 2, { max_batch_size: 16 }), 2), undefined);
    assert.equal(batchCapacityWarning(model(1, 4, { enabled: false, max_batch_size: 64 }), 1), undefined);
  });

  it('warns with the concurrency that would let batches fill', () => {
    const w = batchCapacityWarning(model(16, 2, { max_batch_size: 32 }), 1);
    assert.match(w ?? '', /batches cannot fill/);
    assert.match(w ?? '', /concurrency ≥ 64/);
  });
});
