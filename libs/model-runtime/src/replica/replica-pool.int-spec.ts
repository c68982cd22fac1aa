import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { forgeModel } from '../forge/forge';
import { LocalModel } from '../generation/local-model';
import { TEST_EXECUTION } from '../testing/greedy-reference';
import { poolGenerate } from '../testing/pool-generate';
import { ReplicaPool, type ReplicaBatchReport } from './replica-pool';

describe('ReplicaPool', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hp-pool-'));
  const dir = join(tmp, 'tiny');
  let pool: ReplicaPool;
  before(async () => {
    forgeModel({ arch: 'llama', preset: 'tiny', seed: 2, out: dir });
    pool = await ReplicaPool.start({
      dir,
      replicas: 2,
      execution: TEST_EXECUTION,
    });
  });
  after(async () => {
    await pool?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('generates the same tokens as in-process, streams tokens, dispatches to the least loaded', async () => {
    const local = await LocalModel.load(dir);
    const [expected] = await local.generate([
      { prompt: 'hello there', params: { max_tokens: 12, temperature: 0 } },
    ]);
    await local.close();
    const streamed: number[] = [];
    const runs = await Promise.all([
      poolGenerate(pool, [{ prompt: 'hello there', params: { max_tokens: 12, temperature: 0 } }], {
        onToken: (_s, t) => streamed.push(t.token_id),
      }),
      poolGenerate(pool, [{ prompt: 'hello there', params: { max_tokens: 12, temperature: 0 } }]),
    ]);
    for (const [out] of runs) assert.deepEqual(out?.tokens, expected?.tokens);
    assert.deepEqual(streamed, expected?.tokens);
    assert.deepEqual(pool.load(), [0, 0]);
  });

  it('accounts busy time only while a replica has work in flight', async () => {
    const before = pool.busyTime();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(pool.busyTime(), before, 'idle replicas accrue no busy time');
    const started = performance.now();
    await pool.submitGeneration({ prompt: 'busy', params: { max_tokens: 16, temperature: 0 } });
    const elapsed = performance.now() - started;
    const gained = pool.busyTime().map((b, i) => b - (before[i] ?? 0));
    const total = gained.reduce((a, b) => a + b, 0);
    assert.ok(total > 0 && total <= elapsed + 1, `busy ${total} ms within ${elapsed} ms`);
    assert.equal(gained.filter((g) => g > 0).length, 1, 'one replica served the request');
  });

  it('keeps the main event loop free while a replica generates, and cancels between tokens', async () => {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const ac = new AbortController();
    let count = 0;
    const started = performance.now();
    const [out] = await poolGenerate(
      pool,
      [{ prompt: 'hello there', params: { max_tokens: 400, temperature: 0 } }],
      {
        signal: ac.signal,
        onToken: () => {
          if (++count === 150) ac.abort();
        },
      },
    );
    h.disable();
    assert.equal(out?.finishReason, 'cancelled');
    assert.ok((out?.tokens.length ?? 0) >= 150 && (out?.tokens.length ?? 0) < 400);
    const maxMs = h.max / 1e6;
    assert.ok(
      maxMs < 50,
      `event-loop delay max ${maxMs.toFixed(1)} ms over ${(performance.now() - started).toFixed(0)} ms`,
    );
  });

  it('takes a sequence submitted mid-stream into the running batch', async () => {
    // One replica, so both sequences meet in it (the forged tiny model runs on the WASM engine).
    const single = await ReplicaPool.start({ dir, replicas: 1, warmup: false });
    try {
      let longTokens = 0;
      let joined: Promise<unknown> | undefined;
      let longAtJoinEnd = -1;
      const long = single.submitGeneration(
        { prompt: 'a long story', params: { max_tokens: 400, temperature: 0 } },
        {
          onToken: () => {
            if (++longTokens !== 10) return;
            joined = single
              .submitGeneration({ prompt: 'short', params: { max_tokens: 4, temperature: 0 } })
              .then((out) => {
                longAtJoinEnd = longTokens;
                return out;
              });
          },
        },
      );
      const out = await long;
      await joined;
      assert.ok(
        longAtJoinEnd > 10 && longAtJoinEnd < out.tokens.length,
        `the short sequence ended at the long one's token ${longAtJoinEnd}, not after it`,
      );
    } finally {
      await single.close();
    }
  });

  it('fails a load with invalid_model and rejects after close', async () => {
    await assert.rejects(ReplicaPool.start({ dir: join(tmp, 'missing'), replicas: 1 }), {
      code: 'invalid_model',
    });
    const p = await ReplicaPool.start({ dir, replicas: 1, warmup: false });
    await p.close();
    await assert.rejects(poolGenerate(p, [{ prompt: 'x' }]), { code: 'worker_shutdown' });
  });

  it('reports iteration groups with the tags of their members when asked to', async () => {
    const groups: ReplicaBatchReport[] = [];
    const traced = await ReplicaPool.start({
      dir,
      replicas: 1,
      warmup: false,
      onReport: (g) => groups.push(g),
    });
    try {
      const tags = ['job-a', 'job-b', 'job-c'];
      await Promise.all(
        tags.map((tag, i) =>
          traced.submitGeneration(
            { prompt: `sequence ${i}`, params: { max_tokens: 6 + i * 3, temperature: 0 } },
            { tag },
          ),
        ),
      );
      assert.ok(groups.some((g) => g.kind === 'prefill'));
      const decodes = groups.filter((g) => g.kind === 'decode');
      assert.ok(
        decodes.some((g) => g.tags.length > 1),
        'sequences decoded together',
      );
      for (const tag of tags)
        assert.ok(
          decodes.some((g) => g.tags.includes(tag)),
          `${tag} in a group`,
        );
      for (const g of groups) {
        assert.equal(g.replica, 0);
        assert.ok(g.forwards >= 1 && g.endedAt >= g.startedAt && g.startedAt > 1e12, 'epoch-ms times');
        assert.ok(g.tags.every((t) => tags.includes(t as string)));
      }
    } finally {
      await traced.close();
    }
  });
});
