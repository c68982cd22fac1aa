import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { JobRequestSchema, type JobRequestInput } from '@hotpath/contracts';
import { computeCacheKey, isDeterministic } from './cache-key';
import { cacheKeys } from './cache-keys';

const job = (over: Partial<JobRequestInput> & Record<string, unknown> = {}) =>
  JobRequestSchema.parse({ model: 'tiny', task: 'generate', input: { prompt: 'Once upon a time' }, ...over });
const key = (j = job(), over: Partial<Parameters<typeof computeCacheKey>[0]> = {}) =>
  computeCacheKey({
    job: j,
    modelDigest: 'd1',
    scope: 'tenant',
    tenant: 'acme',
    defaultMaxTokens: 64,
    ...over,
  });

describe('isDeterministic', () => {
  it('caches greedy and seeded generation and every embedding, never unseeded sampling', () => {
    assert.equal(isDeterministic(job()), true);
    assert.equal(isDeterministic(job({ params: { temperature: 0.8 } })), false);
    assert.equal(isDeterministic(job({ params: { temperature: 0.8, seed: 7 } })), true);
    assert.equal(
      isDeterministic(JobRequestSchema.parse({ model: 'e', task: 'embed', input: { texts: ['a'] } })),
      true,
    );
  });
});

describe('computeCacheKey', () => {
  it('is stable and ignores fields that do not change the output', () => {
    assert.equal(key(), key(job({ priority: 'high', routing_key: 'x', cache: 'refresh' })));
    assert.equal(key(), key(job({ params: { max_tokens: 64 } })), 'omitted max_tokens = the model default');
    assert.equal(key(), key(job({ params: { top_p: 0.5, seed: 3 } })), 'greedy ignores sampler knobs');
    assert.equal(key(job({ params: { stop: ['a', 'b'] } })), key(job({ params: { stop: ['b', 'a'] } })));
  });

  it('changes with everything that changes the output', () => {
    const base = key();
    assert.notEqual(base, key(job({ input: { prompt: 'Once upon a time!' } })));
    assert.notEqual(base, key(job({ params: { max_tokens: 65 } })));
    assert.notEqual(base, key(undefined, { modelDigest: 'd2' }), 'a new model version');
    assert.notEqual(base, key(undefined, { tenant: 'other' }), 'tenant scope');
    assert.equal(key(undefined, { scope: 'global' }), key(undefined, { scope: 'global', tenant: 'other' }));
    const seeded = (seed: number) => key(job({ params: { temperature: 0.7, seed } }));
    assert.notEqual(seeded(1), seeded(2));
  });
});

describe('cache keys on Redis Cluster', () => {
  it('an entry, its LRU index and its single-flight key share one hash tag (one slot)', () => {
    const tag = (k: string): string => /\{([^}]+)\}/.exec(k)?.[1] ?? k;
    const tags = new Set([
      tag(cacheKeys.entry('tiny', 'h1')),
      tag(cacheKeys.lru('tiny')),
      tag(cacheKeys.flight('tiny', 'h1')),
      tag(cacheKeys.digest('tiny')),
    ]);
    assert.deepEqual([...tags], ['m:tiny']);
  });
});
