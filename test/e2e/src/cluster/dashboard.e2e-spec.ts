import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { E2eCluster, asJob, describe, generateJob } from '@hotpath/e2e-harness';

// The queue dashboard in a real headless Chromium (the Debian package; CI installs it): the page
// asks for the admin key, loads, shows a job submitted here, and logs no console errors.

const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const executablePath = [process.env['HOTPATH_CHROMIUM'], ...CHROMIUM_PATHS].find(
  (p): p is string => p !== undefined && p !== '' && existsSync(p),
);
const ADMIN_KEY = 'key-admin-dashboard';

const cluster = new E2eCluster('dashboard');
const model = cluster.modelName('dash');
let browser: BrowserContext | undefined;
let profile = '';

before(
  async () => {
    if (!executablePath) return;
    await cluster.setUp({
      models: [cluster.simModel(model, { shards: 2, sim: { base_ms: 5 }, cache: { enabled: false } })],
    });
    await Promise.all([
      cluster.startApi({
        env: { HOTPATH_API_KEYS: 'acme:key-acme', HOTPATH_ADMIN_KEYS: `ops:${ADMIN_KEY}` },
      }),
      cluster.startWorker(),
    ]);
    profile = await mkdtemp(join(tmpdir(), 'hotpath-chromium-'));
    // A fresh profile per run; the page logs in with Basic credentials (the admin key as password).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      httpCredentials: { username: 'ops', password: ADMIN_KEY },
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  },
  { timeout: 60_000 },
);
after(
  async () => {
    await browser?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    if (executablePath) await cluster.tearDown();
  },
  { timeout: 30_000 },
);

cluster.test(
  'the queue dashboard loads in Chromium, shows a submitted job and its worker, without console errors',
  async (t) => {
    if (!browser) {
      t.skip('no Chromium binary (apt-get install chromium, or set HOTPATH_CHROMIUM)');
      return;
    }
    const client = cluster.client.withKey('key-acme');
    // A deadline already past fails the job without retries: a failure with a code to show.
    const res = await client.submit(generateJob(model, { prompt: 'too late', deadline_ms: 1 }));
    assert.ok(res.status === 202 || res.status === 200, describe(res));
    const failed = await client.waitForTerminal(asJob(res).id, 15_000);
    assert.equal(failed.status, 'failed');

    const anonymous = await fetch(`${cluster.client.baseUrl}/admin/queues`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(cluster.client.baseUrl) && !r.url().startsWith('data:')) external.push(r.url());
    });

    const answer = await page.goto(`${cluster.client.baseUrl}/admin/queues`);
    assert.equal(answer?.status(), 200);
    const section = page.locator(`[data-model="${model}"]`);
    await section.waitFor({ timeout: 10_000 });
    const text = await section.innerText();
    assert.ok(text.includes(failed.id), 'the failed job is listed');
    assert.ok(text.includes('deadline_exceeded'), 'with its error code');
    const workers = await page.locator('#workers').innerText();
    assert.match(workers, /alive/);
    assert.deepEqual(problems, []);
    assert.deepEqual(external, [], 'everything is served by the API itself');
  },
  { timeout: 60_000 },
);
