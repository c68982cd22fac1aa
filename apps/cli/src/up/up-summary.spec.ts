import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { curlExample, formatSummary, reachableHost } from './up-summary';

describe('reachableHost', () => {
  it('maps wildcard binds to loopback and brackets IPv6', () => {
    assert.equal(reachableHost(undefined), '127.0.0.1');
    assert.equal(reachableHost('0.0.0.0'), '127.0.0.1');
    assert.equal(reachableHost('::'), '127.0.0.1');
    assert.equal(reachableHost('::1'), '[::1]');
    assert.equal(reachableHost('localhost'), 'localhost');
  });
});

describe('formatSummary', () => {
  const base = {
    apiBase: 'http://127.0.0.1:3000',
    workerBase: 'http://127.0.0.1:9464',
    redisUrl: 'redis://:pw@127.0.0.1:6379',
    redisSource: 'local' as const,
    redisDescription: 'found on 127.0.0.1:6379',
    configSource: 'built-in',
    models: ['sim'],
    example: { model: 'sim', task: 'generate' as const },
    authRequired: false,
    logFilesDir: undefined,
    pids: { api: 11, worker: 12 },
    elapsedMs: 2345,
  };

  it('lists every URL, where Redis came from (password hidden) and a curl example', () => {
    const text = formatSummary(base).join('\n');
    assert.match(text, /hotpath is up \(2\.3 s\)/);
    assert.match(text, /http:\/\/127\.0\.0\.1:3000\/docs/);
    assert.match(text, /http:\/\/127\.0\.0\.1:3000\/metrics \(api\)/);
    assert.match(text, /http:\/\/127\.0\.0\.1:9464\/metrics \(worker, pid 12\)/);
    assert.match(text, /redis:\/\/:\*\*\*@127\.0\.0\.1:6379 +\(found on 127\.0\.0\.1:6379\)/);
    assert.ok(!text.includes(':pw@'));
    assert.match(text, /curl -s http:\/\/127\.0\.0\.1:3000\/v1\/jobs .*Prefer: wait=5/);
  });

  it('mentions --no-worker, log files and the auth header when they apply', () => {
    const text = formatSummary({
      ...base,
      workerBase: undefined,
      authRequired: true,
      logFilesDir: '/r/.hotpath/logs',
    }).join('\n');
    assert.match(text, /not started \(--no-worker\)/);
    assert.match(text, /\/r\/\.hotpath\/logs\/\{api,worker\}\.log/);
    assert.match(text, /authorization: Bearer <key>/);
  });
});

describe('curlExample', () => {
  it('builds a valid JSON body for both tasks', () => {
    const body = (cmd: string): unknown => JSON.parse(/-d '(.*)'$/.exec(cmd)?.[1] ?? 'null');
    assert.deepEqual(body(curlExample('http://h:1', 'sim', 'generate', false)), {
      model: 'sim',
      task: 'generate',
      input: { prompt: 'hello' },
    });
    assert.deepEqual(body(curlExample('http://h:1', 'e', 'embed', false)), {
      model: 'e',
      task: 'embed',
      input: { texts: ['hello'] },
    });
  });
});
