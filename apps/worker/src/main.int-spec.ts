import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WorkerHandle } from './worker-app';
import { TestProducer, startTestWorker, testCluster, uniqueModel } from './testing/worker-test-kit';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const MAIN = join(__dirname, 'main.js');

interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnWorker(env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function started(w: Spawned): Promise<void> {
  const until = Date.now() + 10_000;
  while (!w.stdout().includes('"worker started"')) {
    if (Date.now() > until || w.child.exitCode !== null)
      throw new Error(`worker did not start: ${w.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('worker process (dist/main.js)', () => {
  const model = uniqueModel('proc');
  const queue = { shutdown_grace_ms: 100 };
  const slowCluster = testCluster(
    [{ name: model, backend: 'sim', concurrency: 2, sim: { base_ms: 20_000 } }],
    queue,
  );
  let dir: string;
  let configFile: string;
  let producer: TestProducer;
  const children: Spawned[] = [];
  let rescuer: WorkerHandle | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-worker-test-'));
    configFile = join(dir, 'cluster.json');
    writeFileSync(configFile, JSON.stringify(slowCluster));
    producer = new TestProducer(REDIS_URL, slowCluster);
    await producer.ready();
  });

  after(async () => {
    for (const c of children)
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await rescuer?.close({ graceMs: 0 });
    await producer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({
    REDIS_URL,
    HOTPATH_CONFIG: configFile,
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  });

  it('exits 1 naming the bad variable', async () => {
    const w = spawnWorker({ ...env(), WORKER_SHARDS: 'tiny:x', METRICS_PORT: '99999' });
    children.push(w);
    const { code } = await within(w.exited, 10_000, 'exit');
    assert.equal(code, 1);
    assert.match(w.stderr(), /WORKER_SHARDS/);
    assert.match(w.stderr(), /METRICS_PORT/);
  });

  it('hands jobs back on SIGTERM, and a SIGKILLed worker’s jobs run again elsewhere', async () => {
    const a = spawnWorker(env());
    children.push(a);
    await started(a);
    const first = await producer.submit({ model, generate: { prompt: 'survive a SIGTERM', max_tokens: 4 } });
    await producer.waitForRecord(first, (r) => r.status === 'running');
    a.child.kill('SIGTERM');
    const exit = await within(a.exited, 10_000, 'SIGTERM exit');
    assert.equal(exit.code, 0);
    const requeued = await producer.store.get(first);
    assert.equal(requeued?.status, 'queued');
    assert.equal(requeued?.attempts, 0, 'a hand-back gives its attempt back');
    const handedBack = await producer.queues.queue(model, 0).getJob(first);
    assert.equal(handedBack?.attemptsMade, 0);

    const b = spawnWorker(env());
    children.push(b);
    await started(b);
    const second = await producer.submit({ model, generate: { prompt: 'survive a SIGKILL', max_tokens: 4 } });
    await producer.waitForRecord(first, (r) => r.status === 'running');
    await producer.waitForRecord(second, (r) => r.status === 'running');
    b.child.kill('SIGKILL');
    await within(b.exited, 5000, 'SIGKILL exit');

    // Same model, no latency: picks both jobs up once their locks (2 s) expire and the stalled check runs.
    rescuer = await startTestWorker(
      REDIS_URL,
      testCluster([{ name: model, backend: 'sim', concurrency: 2, sim: { base_ms: 0 } }], queue),
    );
    for (const id of [first, second]) {
      const rec = await producer.waitForTerminal(id, 10_000);
      assert.equal(rec?.status, 'completed', `job ${id}`);
      // Started by the killed worker, then by the rescuer; the SIGTERM hand-back gave its run back.
      assert.equal(rec?.attempts, 2);
    }
  });
});
