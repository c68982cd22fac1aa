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
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

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

// The one Redis kit of the repository (libs/redis-local, built by `npm test` before this runs).
const redisLocal = () => import(join(root, 'libs/redis-local/dist/index.js'));
const portsLib = () => import(join(root, 'libs/ports/dist/index.js'));

let redisServer;
let redisDir;
const needsRedis = files.some((f) => !patterns.unit.test(f) || /\.(int|e2e)-spec\.js$/.test(f));
if (needsRedis && !process.env.REDIS_URL) {
  const { LOCAL_REDIS_URL, RedisProcess, pingRedis } = await redisLocal();
  if ((await pingRedis(LOCAL_REDIS_URL, 500)) === undefined) {
    process.env.REDIS_URL = LOCAL_REDIS_URL;
  } else if (spawnSync('redis-server', ['--version']).status === 0) {
    const { freePort } = await portsLib();
    redisDir = mkdtempSync(join(tmpdir(), 'hotpath-test-redis-'));
    redisServer = RedisProcess.server({ port: await freePort(), dir: redisDir });
    await redisServer.ready();
    process.env.REDIS_URL = redisServer.url;
    console.log(`started redis-server for the tests on port ${redisServer.port}`);
  } else {
    console.log('no Redis found: set REDIS_URL or install redis-server; Redis-backed tests will fail');
  }
}

const concurrency = process.env.TEST_CONCURRENCY ?? '2';

/** Runs `list` with Node's test runner and `env`; resolves with its exit code and TAP totals. */
async function runFiles(list, env, fileConcurrency = concurrency) {
  const tapFile = join(mkdtempSync(join(tmpdir(), 'hotpath-tap-')), 'results.tap');
  const child = spawn(
    process.execPath,
    [
      '--enable-source-maps',
      '--test',
      `--test-concurrency=${fileConcurrency}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      ...list.map((f) => relative(root, f)),
    ],
    { cwd: root, stdio: 'inherit', env },
  );
  const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
  const totals = { code, pass: 0, fail: 0, skipped: 0 };
  try {
    const tap = readFileSync(tapFile, 'utf8');
    // The runner's own totals are the last `# pass` / `# fail` lines of the TAP stream.
    totals.pass = Number([...tap.matchAll(/^# pass (\d+)$/gm)].at(-1)?.[1] ?? 0);
    totals.fail = Number([...tap.matchAll(/^# fail (\d+)$/gm)].at(-1)?.[1] ?? 0);
    totals.skipped = Number([...tap.matchAll(/^# skipped (\d+)$/gm)].at(-1)?.[1] ?? 0);
    statSync(tapFile);
  } catch {
    totals.fail = Math.max(totals.fail, 1);
  }
  rmSync(dirname(tapFile), { recursive: true, force: true });
  if (code !== 0 && totals.fail === 0) totals.fail = 1;
  return totals;
}

// The Redis Cluster pass: these e2e files (job path, idempotency, cancellation, cache and
// single-flight across two APIs, stalled-job recovery, SSE and OpenAI streams, webhooks, KEDA keys,
// tenants, fair queuing with rate limits, queue limits and usage, priorities) run a second time with
// every process in REDIS_MODE=cluster against one local Redis Cluster of 3 masters + 3 replicas, and
// so do the fair-queue and direct-lane scripts' integration tests (libs/queue, which connect to the cluster when
// HOTPATH_E2E_REDIS_CLUSTER is set). A representative set rather than every file: the others
// exercise nothing the topology changes, and the pass must stay within CI time.
// HOTPATH_E2E_CLUSTER=0 turns it off. Entries match the end of a compiled file's path.
const CLUSTER_E2E = [
  'happy-path.e2e-spec.js',
  'idempotency.e2e-spec.js',
  'cancellation.e2e-spec.js',
  'cache.e2e-spec.js',
  'worker-crash.e2e-spec.js',
  'openai.e2e-spec.js',
  'redis-keys.e2e-spec.js',
  'tenants.e2e-spec.js',
  'fairness.e2e-spec.js',
  'priorities.e2e-spec.js',
  'queue/dist/fair-queue.int-spec.js',
  'queue/dist/shard-lane.int-spec.js',
];
const clusterFiles = files.filter((f) => CLUSTER_E2E.some((name) => f.endsWith(`/${name}`)));
const clusterPass =
  clusterFiles.length > 0 &&
  process.env.HOTPATH_E2E_CLUSTER !== '0' &&
  spawnSync('redis-cli', ['--version']).status === 0;

console.log(
  `running ${files.length} test files (tier ${tier}, concurrency ${concurrency})` +
    (clusterPass ? `, then ${clusterFiles.length} files again on a Redis Cluster` : ''),
);
const totals = [await runFiles(files, process.env)];
await redisServer?.stop();
if (redisDir) rmSync(redisDir, { recursive: true, force: true });

if (clusterPass) {
  const { LocalRedisCluster } = await redisLocal();
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-test-redis-cluster-'));
  let local;
  try {
    const t0 = Date.now();
    local = await LocalRedisCluster.start({ dir });
    console.log(`\nRedis Cluster pass: 6 nodes up in ${Date.now() - t0} ms (${local.url})`);
    // One file at a time: six redis-server nodes already share the cores with the processes.
    totals.push(await runFiles(clusterFiles, { ...process.env, HOTPATH_E2E_REDIS_CLUSTER: local.url }, '1'));
  } catch (err) {
    console.error(`Redis Cluster pass could not run: ${err.message}`);
    totals.push({ code: 1, pass: 0, fail: 1, skipped: 0 });
  } finally {
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pass = totals.reduce((n, t) => n + t.pass, 0);
const fail = totals.reduce((n, t) => n + t.fail, 0);
const skipped = totals.reduce((n, t) => n + t.skipped, 0);
const failedRun = totals.some((t) => t.code !== 0);
console.log(`tests: ${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(fail > 0 || failedRun ? 1 : 0);
