import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { JobRequestSchema, ModelConfigSchema } from '@hotpath/contracts';
import { queuedPayload, queuedRecord, shardOf, type NewJob } from './job-builders';

const model = ModelConfigSchema.parse({ name: 'm', backend: 'sim', tasks: ['generate', 'embed'], shards: 8 });

describe('job builders', () => {
  it('routes by routing_key when given, else by the prompt or first text prefix', () => {
    const a = JobRequestSchema.parse({
      model: 'm',
      task: 'generate',
      input: { prompt: 'abcdef-1' },
      routing_key: 'k',
    });
    const b = JobRequestSchema.parse({
      model: 'm',
      task: 'generate',
      input: { prompt: 'zzz' },
      routing_key: 'k',
    });
    assert.equal(shardOf(a, model, 256), shardOf(b, model, 256));
    const p1 = JobRequestSchema.parse({
      model: 'm',
      task: 'generate',
      input: { prompt: 'same-prefix AAAA' },
    });
    const p2 = JobRequestSchema.parse({ model: 'm', task: 'embed', input: { texts: ['same-prefix BBBB'] } });
    assert.equal(shardOf(p1, model, 11), shardOf(p2, model, 11));
  });

  it('builds a queued record and a payload with an absolute deadline', () => {
    const request = JobRequestSchema.parse({
      model: 'm',
      task: 'generate',
      input: { prompt: 'hi' },
      params: { max_tokens: 3 },
      deadline_ms: 500,
      priority: 'high',
    });
    const job: NewJob = { id: 'j1', tenant: 't', request, model, shard: 3, now: 1000 };
    const rec = queuedRecord(job);
    assert.equal(rec.status, 'queued');
    assert.equal(rec.createdAt, 1000);
    assert.equal(rec.tenant, 't');
    const payload = queuedPayload(job);
    assert.equal(payload.deadline_at, 1500);
    assert.equal(payload.enqueued_at, 1000);
    assert.equal(payload.priority, 'high');
    assert.deepEqual(payload.params, { max_tokens: 3 });
    const noDeadline = queuedPayload({ ...job, request: { ...request, deadline_ms: undefined } });
    assert.equal(noDeadline.deadline_at, null);
  });
});
