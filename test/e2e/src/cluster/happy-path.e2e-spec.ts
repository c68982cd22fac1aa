import assert from 'node:assert/strict';
import { E2eCluster, asError, asJob, describe, embedJob, generateJob } from '@hotpath/e2e-harness';

// The basic round trip through real processes: submit, long-poll, Prefer: wait, embed, batch.

const cluster = new E2eCluster('happy');
const model = cluster.modelName('gen');

cluster.hooks({
  models: [
    cluster.simModel(model, {
      tasks: ['generate', 'embed'],
      shards: 2,
      sim: { base_ms: 20, per_item_ms: 2, embedding_dim: 8 },
    }),
  ],
});

cluster.test(
  'POST generate → 202 queued, then GET ?wait=5 → completed with result, usage, timings',
  async () => {
    const res = await cluster.client.submit(generateJob(model, { prompt: 'hello hotpath' }));
    assert.equal(res.status, 202, describe(res));
    const queued = asJob(res);
    assert.equal(queued.status, 'queued');
    assert.equal(queued.model, model);
    assert.equal(queued.task, 'generate');
    assert.ok(res.headers.get('x-request-id'), 'x-request-id header on job routes');
    assert.equal(res.headers.get('x-cache'), 'bypass', 'x-cache on submissions (cache: bypass)');

    const got = await cluster.client.getJob(queued.id, 5);
    assert.equal(got.status, 200, describe(got));
    const job = asJob(got);
    assert.equal(job.id, queued.id);
    assert.equal(job.status, 'completed', describe(got));
    assert.ok(job.result && 'text' in job.result, describe(got));
    assert.equal(typeof job.result.text, 'string');
    assert.ok(job.result.tokens.length > 0, 'some tokens generated');
    assert.ok(job.usage, 'usage present');
    assert.ok(job.usage.completion_tokens > 0);
    assert.ok(job.usage.completion_tokens <= 8, 'max_tokens respected');
    for (const k of ['queue', 'batch_wait', 'inference', 'total'] as const) {
      assert.equal(typeof job.timings_ms[k], 'number', `timings_ms.${k} is a number: ${describe(got)}`);
    }
    assert.ok((job.timings_ms.inference ?? 0) >= 15, `sim latency shows in timings: ${describe(got)}`);
    assert.ok(job.finished_at && Date.parse(job.finished_at) >= Date.parse(job.created_at));
  },
);

cluster.test(
  'Prefer: wait=5 answers 200 with the finished job; the sim output is deterministic',
  async () => {
    const body = generateJob(model, { prompt: 'deterministic please', params: { max_tokens: 6, seed: 7 } });
    const first = await cluster.client.submit(body, { preferWaitS: 5 });
    assert.equal(first.status, 200, describe(first));
    const a = asJob(first);
    assert.equal(a.status, 'completed', describe(first));
    const second = await cluster.client.submit(body, { preferWaitS: 5 });
    assert.equal(second.status, 200, describe(second));
    const b = asJob(second);
    assert.notEqual(a.id, b.id);
    assert.deepEqual(b.result, a.result, 'same input, same output');
  },
);

cluster.test('embed job → one vector per text, embedding_dim long', async () => {
  const res = await cluster.client.submit(embedJob(model, ['alpha', 'beta', 'gamma']), { preferWaitS: 5 });
  assert.equal(res.status, 200, describe(res));
  const job = asJob(res);
  assert.equal(job.status, 'completed');
  assert.equal(job.task, 'embed');
  assert.ok(job.result && 'embeddings' in job.result, describe(res));
  assert.equal(job.result.embeddings.length, 3);
  for (const v of job.result.embeddings) {
    assert.equal(v.length, 8);
    assert.ok(v.every((x) => Number.isFinite(x)));
  }
});

cluster.test(
  'batch with one invalid member: entries in order, the bad one refused, the rest run',
  async () => {
    const res = await cluster.client.submitBatch([
      generateJob(model, { prompt: 'batch one' }),
      { model, task: 'generate', input: { prompt: 42 } },
      embedJob(model, ['batch three']),
    ]);
    assert.ok(res.status === 200 || res.status === 202 || res.status === 207, describe(res));
    const entries = batchEntries(res.json);
    assert.ok(entries, `batch answer has one entry per job: ${describe(res)}`);
    assert.equal(entries.length, 3, describe(res));

    const [ok1, bad, ok3] = entries;
    assert.equal(bad?.status_code, 400, describe(res));
    assert.ok(bad && 'error' in bad && bad.error.code === 'invalid_request', describe(res));
    const ids: string[] = [];
    for (const e of [ok1, ok3]) {
      assert.equal(e?.status_code, 202, describe(res));
      assert.ok(e && 'job' in e, describe(res));
      ids.push(e.job.id);
    }
    for (const id of ids) {
      const job = await cluster.client.waitForTerminal(id, 10_000);
      assert.equal(job.status, 'completed');
    }
  },
);

cluster.test('bad input and unknown ids answer with the documented error shape', async () => {
  const bad = await cluster.client.submit({ model, task: 'generate', input: {} });
  assert.equal(bad.status, 400, describe(bad));
  assert.equal(asError(bad).code, 'invalid_request');
  const unknownModel = await cluster.client.submit(generateJob('no-such-model'));
  assert.ok([400, 404].includes(unknownModel.status), describe(unknownModel));
  assert.equal(asError(unknownModel).code, 'model_not_found');
  const missing = await cluster.client.getJob('00000000-0000-4000-8000-000000000000');
  assert.equal(missing.status, 404, describe(missing));
  assert.equal(asError(missing).code, 'not_found');
});

interface BatchEntry {
  status_code: number;
  job: { id: string };
  error: { code: string };
}
type Entry = { status_code: number } & ({ job: BatchEntry['job'] } | { error: BatchEntry['error'] });

/** The batch answer's entries: `{jobs: [...]}` (or a bare array). */
function batchEntries(json: unknown): Entry[] | undefined {
  const list = Array.isArray(json)
    ? json
    : typeof json === 'object' && json !== null
      ? (Object.values(json).find((v) => Array.isArray(v)) as unknown[] | undefined)
      : undefined;
  return list as Entry[] | undefined;
}
