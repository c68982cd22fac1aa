import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@hotpath/ports';
import { HotpathClient } from '@hotpath/job-client';
import { allowedCpus, cgroupCpuLimit, placementBlocker } from '@hotpath/model-runtime';
import { appEntry, processAlive } from '@hotpath/process-kit';
import { pingRedis, redisServerOnPath } from '@hotpath/redis-local';

const CLI = join(__dirname, '..', 'main.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function exitOf(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => reject(new Error(`no exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

describe('hotpath up (real api + worker processes)', () => {
  const built = appEntry('api') !== undefined && appEntry('worker') !== undefined;
  let dir: string;
  let redis: ChildProcess | undefined;
  let redisUrl: string;
  let up: ChildProcess | undefined;
  let output = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-up-'));
    if (!built) return;
    if (await redisServerOnPath()) {
      const port = await freePort();
      redis = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
        { stdio: 'ignore' },
      );
      redisUrl = `redis://127.0.0.1:${port}`;
      for (let i = 0; i < 100 && (await pingRedis(redisUrl, 300)) !== undefined; i++) await sleep(50);
    } else {
      redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
    }
  });

  after(async () => {
    up?.kill('SIGKILL');
    redis?.kill('SIGTERM');
    if (redis) await exitOf(redis, 5000).catch(() => redis?.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Starts `hotpath up` on free ports (`config`: a cluster config file; `extraEnv` on top of a clean
   * environment) and waits for its summary.
   */
  async function startUp(
    config?: string,
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<{
    child: ChildProcess;
    port: number;
    metricsPort: number;
    apiPid: number;
    workerPid: number;
  }> {
    const port = await freePort();
    const metricsPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: redisUrl,
      HOTPATH_DATA_DIR: join(dir, 'data'),
      CI: 'true',
      LOG_LEVEL: 'warn',
    };
    delete env['HOTPATH_CONFIG'];
    if (config) env['HOTPATH_CONFIG'] = config;
    for (const k of [
      'HOTPATH_API_KEYS',
      'HOTPATH_API_KEYS_FILE',
      'PORT',
      'METRICS_PORT',
      'WORKER_CPU_PLACEMENT',
    ])
      delete env[k];
    Object.assign(env, extraEnv);
    output = '';
    const child = spawn(
      process.execPath,
      [CLI, 'up', '--port', String(port), '--metrics-port', String(metricsPort)],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    up = child;
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

    const readyBy = Date.now() + 90_000;
    while (!output.includes('hotpath is up')) {
      if (child.exitCode !== null) assert.fail(`hotpath up exited early (${child.exitCode}):\n${output}`);
      if (Date.now() > readyBy) assert.fail(`hotpath up not ready in time:\n${output}`);
      await sleep(100);
    }
    const apiPid = Number(/API\s+\S+\s+\(pid (\d+)\)/.exec(output)?.[1]);
    const workerPid = Number(/\(worker, pid (\d+)\)/.exec(output)?.[1]);
    assert.ok(apiPid > 0 && workerPid > 0, `pids in the summary:\n${output}`);
    return { child, port, metricsPort, apiPid, workerPid };
  }

  /** SIGINT, then a clean exit. */
  async function stopUp(child: ChildProcess): Promise<void> {
    child.kill('SIGINT');
    const exit = await exitOf(child, 60_000);
    assert.deepEqual(exit, { code: 0, signal: null }, output);
  }

  it(
    'starts both children, serves a sim job and stops cleanly on SIGINT',
    { timeout: 120_000 },
    async (t) => {
      if (!built) return t.skip('apps/api or apps/worker is not built');
      const { child, port, metricsPort, apiPid, workerPid } = await startUp();
      assert.match(output, new RegExp(`${redisUrl.replace(/[/.]/g, '\\$&')}\\s+\\(from REDIS_URL\\)`));

      const client = new HotpathClient(`http://127.0.0.1:${port}`);
      const res = await client.submit(
        { model: 'sim', task: 'generate', input: { prompt: 'hi' } },
        { preferWaitS: 10, timeoutMs: 20_000 },
      );
      const job = res.json as { id: string; status: string; result?: { text?: string } };
      assert.equal(res.status, 200, JSON.stringify(job));
      assert.equal(job.status, 'completed');
      assert.equal(typeof job.result?.text, 'string');

      const polled = await client.getJob(job.id);
      assert.equal((polled.json as { status: string }).status, 'completed');

      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(metrics.status, 200);

      await stopUp(child);
      assert.equal(processAlive(apiPid), false, 'api still running');
      assert.equal(processAlive(workerPid), false, 'worker still running');
      assert.match(output, /hotpath up: stopped/);
    },
  );

  it(
    'pins nothing by default; with WORKER_CPU_PLACEMENT=auto gives a one-replica WASM model a core of its own and moves the API to the worker’s other cores',
    { timeout: 120_000 },
    async (t) => {
      if (!built) return t.skip('apps/api or apps/worker is not built');
      const allowed = allowedCpus();
      const blocker = placementBlocker({ allowed, quota: cgroupCpuLimit() });
      if (blocker) return t.skip(`placement cannot act here: ${blocker}`);
      if (spawnSync('taskset', ['-V']).error) return t.skip('taskset (util-linux) is not installed');
      const config = join(dir, 'placement.json');
      writeFileSync(
        config,
        JSON.stringify({
          models: [
            {
              name: 'tiny-pinned',
              backend: 'onnx',
              path: join(dir, 'tiny-pinned'),
              forge: { arch: 'llama', preset: 'tiny' },
              tasks: ['generate'],
              replicas: 1,
            },
          ],
        }),
      );
      const plain = await startUp(config);
      assert.deepEqual(allowedCpus(plain.workerPid), allowed, `off by default:\n${output}`);
      assert.deepEqual(allowedCpus(plain.apiPid), allowed, 'the API left where it was');
      await stopUp(plain.child);

      const { child, port, apiPid, workerPid } = await startUp(config, { WORKER_CPU_PLACEMENT: 'auto' });
      const rest = (allowed as number[]).slice(0, -1);
      assert.deepEqual(allowedCpus(workerPid), rest, `the worker's main thread:\n${output}`);
      assert.deepEqual(allowedCpus(apiPid), rest, 'the API beside it');
      const res = await new HotpathClient(`http://127.0.0.1:${port}`).submit(
        { model: 'tiny-pinned', task: 'generate', input: { prompt: 'hi' }, params: { max_tokens: 4 } },
        { preferWaitS: 20, timeoutMs: 30_000 },
      );
      assert.equal((res.json as { status: string }).status, 'completed', JSON.stringify(res.json));
      await stopUp(child);
    },
  );
});
