import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@hotpath/ports';
import type { LogSink } from './managed-process';
import { RestartPolicy } from './restart-policy';
import { ServiceStartError, ServiceSupervisor, type SupervisorHooks } from './service-supervisor';

// A stand-in for the API/worker: serves /readyz, dies on /crash, drains on SIGTERM (or ignores it).
const FAKE_SERVICE = `
const http = require('node:http');
const mode = process.env.FAKE_MODE;
if (mode === 'exit-at-start') { console.error('invalid environment: REDIS_URL is required'); process.exit(3); }
const srv = http.createServer((req, res) => {
  if (req.url === '/readyz') return res.end('ok');
  if (req.url === '/crash') { res.end('bye'); setTimeout(() => process.exit(7), 10); return; }
  res.statusCode = 404; res.end();
});
srv.listen(Number(process.env.FAKE_PORT), '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening' })));
let terms = 0;
process.on('SIGTERM', () => {
  if (mode === 'ignore-term') return;
  // Like the API and the worker: a second SIGTERM skips the drain.
  if (++terms > 1) process.exit(9);
  console.error(JSON.stringify({ msg: 'draining' }));
  srv.close(() => setTimeout(() => process.exit(0), 200));
});
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('ServiceSupervisor with real child processes', () => {
  let dir: string;
  let entry: string;
  const running: ServiceSupervisor[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-sup-'));
    entry = join(dir, 'fake-service.js');
    writeFileSync(entry, FAKE_SERVICE);
  });

  after(async () => {
    running.forEach((s) => s.kill());
    rmSync(dir, { recursive: true, force: true });
  });

  async function make(
    mode: string,
    policy = new RestartPolicy({ maxRestarts: 1, windowMs: 60_000, baseDelayMs: 50, maxDelayMs: 50 }),
  ): Promise<{
    sup: ServiceSupervisor;
    lines: string[];
    notes: string[];
    gaveUp: string[];
    port: number;
  }> {
    const port = await freePort();
    const lines: string[] = [];
    const notes: string[] = [];
    const gaveUp: string[] = [];
    const sink: LogSink = { write: (stream, line) => lines.push(`${stream}:${line}`) };
    const hooks: SupervisorHooks = {
      note: (l) => notes.push(l),
      giveUp: (name, reason) => gaveUp.push(`${name}: ${reason}`),
    };
    const sup = new ServiceSupervisor(
      {
        name: 'fake',
        entry,
        env: { ...process.env, FAKE_MODE: mode, FAKE_PORT: String(port) },
        sink,
        readyUrl: `http://127.0.0.1:${port}/readyz`,
        readyTimeoutMs: 10_000,
      },
      hooks,
      policy,
    );
    running.push(sup);
    return { sup, lines, notes, gaveUp, port };
  }

  it('starts, forwards output by stream and drains on one SIGTERM', async () => {
    const { sup, lines } = await make('ok');
    await sup.start();
    assert.ok(sup.pid);
    // Stopping twice (a signal during start-up, then the cleanup) must send one SIGTERM only.
    const [res, again] = await Promise.all([sup.stop(5000), sup.stop(5000)]);
    assert.deepEqual(res, { code: 0, signal: null, forced: false });
    assert.deepEqual(again, res);
    assert.ok(lines.includes('stdout:{"msg":"listening"}'));
    assert.ok(lines.includes('stderr:{"msg":"draining"}'));
  });

  it('reports a child that exits at start with its last stderr lines', async () => {
    const { sup } = await make('exit-at-start');
    await assert.rejects(
      sup.start(),
      (e: unknown) =>
        e instanceof ServiceStartError &&
        /exited with exit code 3/.test(e.message) &&
        e.lastLines.some((l) => l.includes('REDIS_URL is required')),
    );
  });

  it('restarts a crashed child, then gives up on a crash loop', async () => {
    const { sup, notes, gaveUp, port } = await make('ok');
    await sup.start();
    const firstPid = sup.pid;
    await fetch(`http://127.0.0.1:${port}/crash`).then((r) => r.text());
    await until(() => notes.some((n) => n.includes('restarted')), 10_000);
    assert.notEqual(sup.pid, firstPid);
    assert.ok(notes.some((n) => /died unexpectedly \(exit code 7\)/.test(n)));
    await fetch(`http://127.0.0.1:${port}/crash`).then((r) => r.text());
    await until(() => gaveUp.length > 0, 10_000);
    assert.match(gaveUp[0] ?? '', /fake: exit code 7; crashed 2 times/);
    await sup.stop(1000);
  });

  it('kills a child that ignores SIGTERM after the grace period', async () => {
    const { sup } = await make('ignore-term');
    await sup.start();
    const res = await sup.stop(300);
    assert.equal(res?.forced, true);
    assert.equal(res?.signal, 'SIGKILL');
  });
});
