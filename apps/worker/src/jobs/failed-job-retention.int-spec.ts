import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { shardQueueKey } from '@hotpath/contracts';
import type { WorkerHandle } from '../worker-app';
import {
  TestProducer,
  eventually,
  startTestWorker,
  testCluster,
  uniqueModel,
} from '../testing/worker-test-kit';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('failed-job retention (real Redis, in-process worker)', () => {
  const model = uniqueModel('fr');
  const cluster = testCluster([{ name: model, backend: 'sim' }], { failed_retention_s: 1 });
  let producer: TestProducer;
  let worker: WorkerHandle;

  before(async () => {
    producer = new TestProducer(REDIS_URL, cluster);
    await producer.ready();
    worker = await startTestWorker(REDIS_URL, cluster);
  });

  after(async () => {
    await worker?.close({ graceMs: 0 });
    await producer.queues.queue(model, 0).obliterate({ force: true });
    await producer?.close();
  });

  it('removes a lone failed job (and the prompt in its payload) once its retention passed', async () => {
    // A passed deadline fails the job without running it: the only failure in its queue, so
    // BullMQ's removeOnFail {age} (which trims when a later job fails) never runs.
    const id = await producer.submit({
      model,
      generate: { prompt: 'a private prompt' },
      deadlineAt: Date.now() - 1,
    });
    const rec = await producer.waitForTerminal(id, 5000);
    assert.equal(rec?.status, 'failed');
    const hash = shardQueueKey(model, 0, id);
    assert.match((await producer.redis.hget(hash, 'data')) ?? '', /a private prompt/);
    await eventually(
      async () => (await producer.redis.exists(hash)) === 0,
      6000,
      'the failed job removed after its 1 s retention',
    );
    assert.equal(await producer.redis.zscore(shardQueueKey(model, 0, 'failed'), id), null);
    // The record with its error stays for HOTPATH_RESULT_TTL_S: clients still see why it failed.
    assert.equal((await producer.store.get(id))?.status, 'failed');
  });
});
