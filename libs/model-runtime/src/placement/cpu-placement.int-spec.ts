import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forgeModel } from '../forge/forge';
import { ReplicaPool } from '../replica/replica-pool';
import { cgroupCpuLimit } from '../session/host-cores';
import {
  allowedCpus,
  confineBesideWorker,
  CpuPlacement,
  placementBlocker,
  tasksetPin,
} from './cpu-placement';

/** Why this host cannot show placement (one CPU, a quota, no taskset), or undefined. */
function unplaceable(): string | undefined {
  const blocker = placementBlocker({ allowed: allowedCpus(), quota: cgroupCpuLimit() });
  if (blocker) return blocker;
  if (spawnSync('taskset', ['-V']).error) return 'taskset (util-linux) is not installed';
  return undefined;
}

/**
 * Real threads, real `taskset`: read back through `/proc`. Each test file runs in its own process,
 * so confining this one touches nothing else.
 */
describe('CPU placement on this host', () => {
  const skip = unplaceable();
  const tmp = mkdtempSync(join(tmpdir(), 'hp-placement-'));
  const children: ChildProcess[] = [];
  before(() => {
    if (skip === undefined) forgeModel({ arch: 'llama', preset: 'tiny', seed: 3, out: join(tmp, 'tiny') });
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('gives a single-thread replica the highest core and the rest of the process the others', async (t) => {
    if (skip) return t.skip(`placement cannot act here: ${skip}`);
    const allowed = allowedCpus() as number[];
    const placement = CpuPlacement.forHost('auto');
    const pool = await ReplicaPool.start({
      dir: join(tmp, 'tiny'),
      replicas: 1,
      engine: 'wasm',
      cpuPlacement: placement,
    });
    try {
      const tid = pool.info.tid;
      assert.ok(tid, 'the replica reports its thread id');
      const top = allowed[allowed.length - 1] as number;
      assert.deepEqual(allowedCpus(`self/task/${tid}`), [top]);
      assert.deepEqual(allowedCpus(`self/task/${process.pid}`), allowed.slice(0, -1), 'main thread');
      assert.deepEqual(placement.rest, allowed.slice(0, -1));
      const out = await pool.submitGeneration({ prompt: 'hello', params: { max_tokens: 4, temperature: 0 } });
      assert.equal(out.tokens.length, 4, 'the pinned replica still generates');
    } finally {
      await pool.close();
      await tasksetPin(process.pid, allowed, true);
    }
  });

  it('moves processes beside a worker onto its main thread’s cores, and leaves them when it pinned nothing', async (t) => {
    if (skip) return t.skip(`placement cannot act here: ${skip}`);
    const allowed = allowedCpus() as number[];
    const start = (): ChildProcess => {
      const c = spawn('sleep', ['60'], { stdio: 'ignore' });
      children.push(c);
      return c;
    };
    const worker = start();
    const api = start();
    assert.equal(await confineBesideWorker(worker.pid as number, [api.pid as number]), null);
    assert.deepEqual(allowedCpus(api.pid), allowed, 'unchanged beside an unpinned worker');
    await tasksetPin(worker.pid as number, allowed.slice(0, -1), true);
    assert.deepEqual(
      await confineBesideWorker(worker.pid as number, [api.pid as number]),
      allowed.slice(0, -1),
    );
    assert.deepEqual(allowedCpus(api.pid), allowed.slice(0, -1));
  });
});
