#!/usr/bin/env node
// Runs the compiled test suites with Node's built-in test runner and prints one closing line
// `tests: N passed, N failed, N skipped`. Tiers, by file name (all compiled into each project's dist/):
//   unit         *.spec.js        pure logic, no I/O
//   integration  *.int-spec.js    real Redis (and real onnxruntime-node)
//   e2e          *.e2e-spec.js    real api/worker processes over HTTP (test/e2e)
// Tests that need Redis read REDIS_URL. When it is unset, this script uses 127.0.0.1:6379 if it
// answers, else starts a throwaway `redis-server` on a free port, so `npm test` needs no setup.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const argValue = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const tier = argValue('--tier') ?? 'all';
const project = argValue('--project');
const only = argValue('--grep');

const patterns = {
  unit: /\.spec\.js$/,
  integration: /\.int-spec\.js$/,
  e2e: /\.e2e-spec\.js$/,
};

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const projectDirs = project
  ? [join(root, project)]
  : ['libs', 'apps', 'test'].flatMap((d) =>
      readdirSync(join(root, d), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => join(root, d, e.name)),
    );

const files = projectDirs
  .flatMap((d) => walk(join(d, 'dist'), []))
  .filter((f) => {
    const tiers = tier === 'all' ? Object.values(patterns) : [patterns[tier]];
    return tiers.some((re) => re.test(f) && !(re === patterns.unit && /\.(int|e2e)-spec\.js$/.test(f)));
  })
  .filter((f) => !only || f.includes(only))
  .sort();

if (files.length === 0) {
  console.error(`no test files found (tier ${tier}); did the build run?`);
  process.exit(1);
}

function ping(host, port) {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

let redisChild;
let redisDir;
const needsRedis = files.some((f) => !patterns.unit.test(f) || /\.(int|e2e)-spec\.js$/.test(f));
if (needsRedis && !process.env.REDIS_URL) {
  if (await ping('127.0.0.1', 6379)) {
    process.env.REDIS_URL = 'redis://127.0.0.1:6379';
  } else if (spawnSync('redis-server', ['--version']).status === 0) {
    const port = await freePort();
    redisDir = mkdtempSync(join(tmpdir(), 'hotpath-test-redis-'));
    redisChild = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir],
      {
        stdio: 'ignore',
      },
    );
    for (let i = 0; i < 50 && !(await ping('127.0.0.1', port)); i++)
      await new Promise((r) => setTimeout(r, 100));
    process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
    console.log(`started redis-server for the tests on port ${port}`);
  } else {
    console.log('no Redis found: set REDIS_URL or install redis-server; Redis-backed tests will fail');
  }
}

const tapFile = join(mkdtempSync(join(tmpdir(), 'hotpath-tap-')), 'results.tap');
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
console.log(`running ${files.length} test files (tier ${tier}, concurrency ${concurrency})`);
const child = spawn(
  process.execPath,
  [
    '--enable-source-maps',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit', env: process.env },
);
const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
redisChild?.kill('SIGTERM');
if (redisDir) rmSync(redisDir, { recursive: true, force: true });

let pass = 0;
let fail = 0;
let skipped = 0;
try {
  const tap = readFileSync(tapFile, 'utf8');
  // The runner's own totals are the last `# pass` / `# fail` lines of the TAP stream.
  pass = Number([...tap.matchAll(/^# pass (\d+)$/gm)].at(-1)?.[1] ?? 0);
  fail = Number([...tap.matchAll(/^# fail (\d+)$/gm)].at(-1)?.[1] ?? 0);
  skipped = Number([...tap.matchAll(/^# skipped (\d+)$/gm)].at(-1)?.[1] ?? 0);
  statSync(tapFile);
} catch {
  fail = Math.max(fail, 1);
}
if (code !== 0 && fail === 0) fail = 1;
console.log(`tests: ${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(fail > 0 || code !== 0 ? 1 : 0);
