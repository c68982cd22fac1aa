import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { E2eCluster, asJob, describe, generateJob, sleep, waitFor } from '@hotpath/e2e-harness';
import { LocalSentinelGroup } from '@hotpath/redis-local';

// REDIS_MODE=sentinel against a real primary + replica + Sentinel: jobs run through the elected
// primary; when the primary is SIGKILLed the Sentinel promotes the replica and the API and worker
// follow it (HOTPATH_REDIS_WAIT_REPLICAS=1 made every accepted job reach the replica first, and
// refuses new jobs while no replica is left to acknowledge them).

const dir = mkdtempSync(join(tmpdir(), 'hotpath-sentinel-'));
let group: LocalSentinelGroup;
const cluster = new E2eCluster('sentinel');
const model = cluster.modelName('sen');

before(
  async () => {
    group = await LocalSentinelGroup.start({ dir, downAfterMs: 1000 });
    await cluster.setUp(
      { models: [cluster.simModel(model, { shards: 2, sim: { base_ms: 20 } })] },
      {
        redisEnv: {
          // With Sentinels, REDIS_URL only carries credentials, database and TLS of the primary.
          REDIS_URL: 'redis://127.0.0.1:6379/0',
          REDIS_MODE: 'sentinel',
          REDIS_SENTINELS: group.sentinelList,
          REDIS_SENTINEL_NAME: group.name,
          HOTPATH_REDIS_WAIT_REPLICAS: '1',
        },
      },
    );
    await Promise.all([cluster.startApi(), cluster.startWorker()]);
  },
  { timeout: 60_000 },
);
after(
  async () => {
    await cluster.tearDown().catch(() => undefined);
    await group?.stop();
    rmSync(dir, { recursive: true, force: true });
  },
  { timeout: 30_000 },
);

cluster.test(
  'jobs run through the Sentinel-elected primary, and survive its SIGKILL once the replica is promoted',
  async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await cluster.client.submit(generateJob(model, { prompt: `sentinel ${i}` }));
      assert.equal(res.status, 202, describe(res));
      ids.push(asJob(res).id);
    }
    for (const id of ids.slice(0, 3))
      assert.equal((await cluster.client.waitForStatus(id, ['completed'], 10_000)).status, 'completed');
    const oldPrimary = group.primary.port;
    await group.primary.kill();
    await waitFor(async () => (await group.primaryPort()) !== oldPrimary, {
      timeoutMs: 30_000,
      what: 'the Sentinel to promote the replica',
    });
    // Accepted before the kill: acknowledged by the replica, so still there and finished.
    for (const id of ids)
      assert.equal((await cluster.client.waitForStatus(id, ['completed'], 30_000)).status, 'completed');
    // The promoted primary has no replica left: with HOTPATH_REDIS_WAIT_REPLICAS=1 a submission
    // cannot be made durable, so it is refused with 503 + Retry-After rather than accepted at risk.
    const refused = await cluster.client.submit(generateJob(model, { prompt: 'no replica' }));
    assert.equal(refused.status, 503, describe(refused));
    assert.ok(refused.headers.get('retry-after'), '503 carries Retry-After');
    // A new replica restores the guarantee, and submissions are accepted again.
    await group.addReplica();
    let accepted: string | undefined;
    await waitFor(
      async () => {
        const res = await cluster.client.submit(generateJob(model, { prompt: 'after failover' }));
        if (res.status === 202) accepted = asJob(res).id;
        else assert.equal(res.status, 503, describe(res));
        if (!accepted) await sleep(200);
        return accepted !== undefined;
      },
      { timeoutMs: 30_000, what: 'a submission accepted by the new primary' },
    );
    assert.equal(
      (await cluster.client.waitForStatus(accepted ?? '', ['completed'], 20_000)).status,
      'completed',
    );
  },
  { timeout: 120_000 },
);
