import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { hash64, jumpConsistentHash, routeToShard } from './shard-router';

describe('jumpConsistentHash', () => {
  it('always returns a bucket in range', () => {
    for (let i = 0; i < 2000; i++) {
      const b = jumpConsistentHash(hash64(`k${i}`), 7);
      assert.ok(b >= 0 && b < 7);
    }
  });

  it('spreads keys roughly evenly', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[jumpConsistentHash(hash64(`key-${i}`), 8)]!++;
    for (const c of counts) assert.ok(c > 800 && c < 1200, `bucket count ${c} is far from 1000`);
  });

  it('moves only keys to the new bucket when a shard is added', () => {
    let moved = 0;
    for (let i = 0; i < 5000; i++) {
      const k = hash64(`user-${i}`);
      const before = jumpConsistentHash(k, 4);
      const after = jumpConsistentHash(k, 5);
      if (before !== after) {
        moved++;
        assert.equal(after, 4, 'a moved key must go to the new shard, never between old shards');
      }
    }
    // Expected 1/5 of keys; allow noise.
    assert.ok(moved > 800 && moved < 1200, `moved ${moved} of 5000`);
  });

  it('rejects a non-positive bucket count', () => {
    assert.throws(() => jumpConsistentHash(1n, 0), RangeError);
  });
});

describe('routeToShard', () => {
  it('sends prompts with the same prefix to the same shard', () => {
    const system = 'You are a helpful assistant. '.repeat(20);
    const a = routeToShard({ text: `${system}What is 2+2?` }, 16, 256);
    const b = routeToShard({ text: `${system}Name a colour.` }, 16, 256);
    assert.equal(a, b);
  });

  it('lets an explicit routing key win over the prompt', () => {
    const byKey = new Set<number>();
    for (let i = 0; i < 50; i++)
      byKey.add(routeToShard({ routingKey: 'tenant-42', text: `prompt ${i}` }, 16, 256));
    assert.equal(byKey.size, 1);
  });

  it('is stable for a given key (the contract between API replicas)', () => {
    assert.equal(
      routeToShard({ routingKey: 'abc', text: 'other' }, 8, 256),
      routeToShard({ routingKey: 'abc', text: '' }, 8, 256),
    );
  });
});
