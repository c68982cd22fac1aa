import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { JobRequestSchema } from './job.schema';
import { issuePath } from './zod-issues';
import { shardQueueKey, shardQueueRef, parseShardQueueName, shardQueueName } from './queue-names';

describe('JobRequestSchema', () => {
  it('accepts a minimal generate job and fills defaults', () => {
    const job = JobRequestSchema.parse({ model: 'tiny', task: 'generate', input: { prompt: 'hi' } });
    assert.equal(job.priority, 'normal');
    assert.equal(job.cache, 'default');
    assert.deepEqual(job.params, {});
  });

  it('accepts an embed job', () => {
    const job = JobRequestSchema.parse({ model: 'e', task: 'embed', input: { texts: ['a', 'b'] } });
    assert.equal(job.task, 'embed');
  });

  it('names the offending field', () => {
    const res = JobRequestSchema.safeParse({
      model: 'tiny',
      task: 'generate',
      input: { prompt: 'hi' },
      params: { max_tokens: 0 },
    });
    assert.equal(res.success, false);
    assert.equal(issuePath(res.error!.issues[0]!.path), 'params.max_tokens');
  });

  it('rejects unknown fields, tasks and inputs of the other task', () => {
    assert.equal(
      JobRequestSchema.safeParse({ model: 'm', task: 'generate', input: { prompt: 'x' }, extra: 1 }).success,
      false,
    );
    assert.equal(JobRequestSchema.safeParse({ model: 'm', task: 'train', input: {} }).success, false);
    assert.equal(
      JobRequestSchema.safeParse({ model: 'm', task: 'embed', input: { prompt: 'x' } }).success,
      false,
    );
  });

  it('only accepts http(s) webhooks with a real secret', () => {
    const base = { model: 'm', task: 'generate', input: { prompt: 'x' } };
    assert.equal(
      JobRequestSchema.safeParse({ ...base, webhook: { url: 'ftp://x', secret: 'a'.repeat(16) } }).success,
      false,
    );
    assert.equal(
      JobRequestSchema.safeParse({ ...base, webhook: { url: 'https://x', secret: 'short' } }).success,
      false,
    );
    assert.equal(
      JobRequestSchema.safeParse({ ...base, webhook: { url: 'https://x/h', secret: 'a'.repeat(16) } })
        .success,
      true,
    );
  });
});

describe('queue names', () => {
  it('builds the documented queue keys with a cluster hash tag', () => {
    assert.equal(shardQueueName('tiny', 3), '{tiny:3}');
    assert.equal(shardQueueKey('tiny', 3, 'wait'), 'hp:{tiny:3}:wait');
    const ref = shardQueueRef('tiny', 3);
    assert.equal(`${ref.prefix}:${ref.name}:wait`, 'hp:{tiny:3}:wait');
    assert.ok(!ref.name.includes(':'), 'BullMQ refuses ":" in queue names');
    assert.deepEqual(parseShardQueueName('{tiny-embed:12}'), { model: 'tiny-embed', shard: 12 });
    assert.equal(parseShardQueueName('tiny'), undefined);
  });
});
