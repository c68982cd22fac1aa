import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LOCAL_REDIS_URL } from '@hotpath/redis-local';
import {
  RedisNotFoundError,
  redactRedisUrl,
  resolveRedis,
  type RedisProbes,
  type ResolvedRedis,
} from './redis-resolver';

/** Scripted probes recording what was asked, in order. */
function probes(opts: {
  answering?: string[];
  redisServer?: boolean;
  docker?: boolean;
  testcontainers?: boolean;
}): RedisProbes & { calls: string[] } {
  const calls: string[] = [];
  const started = (url: string, source: ResolvedRedis['source']): ResolvedRedis => ({
    url,
    source,
    description: source,
    stop: async () => undefined,
  });
  return {
    calls,
    ping: async (url) => {
      calls.push(`ping ${url}`);
      return opts.answering?.includes(url) ? undefined : 'connect ECONNREFUSED';
    },
    hasRedisServer: async () => {
      calls.push('which redis-server');
      return opts.redisServer ?? false;
    },
    startEmbedded: async (dir) => {
      calls.push(`embedded ${dir}`);
      return started('redis://127.0.0.1:45678', 'embedded');
    },
    dockerAvailable: async () => {
      calls.push('docker info');
      return opts.docker ?? false;
    },
    startDocker: async () => {
      calls.push('docker start');
      return opts.testcontainers
        ? started('redis://localhost:32768', 'docker')
        : { unavailable: 'testcontainers is not installed' };
    },
  };
}

const dataDir = '/repo/.hotpath';

describe('resolveRedis', () => {
  it('uses REDIS_URL when it answers, without looking further', async () => {
    const p = probes({ answering: ['redis://r:1'] });
    const r = await resolveRedis({ redisUrl: 'redis://r:1', dataDir }, p);
    assert.equal(r.url, 'redis://r:1');
    assert.equal(r.source, 'env');
    assert.deepEqual(p.calls, ['ping redis://r:1']);
  });

  it('fails clearly when REDIS_URL does not answer, instead of falling back', async () => {
    const p = probes({ answering: [LOCAL_REDIS_URL], redisServer: true });
    await assert.rejects(
      resolveRedis({ redisUrl: 'redis://:secret@r:1', dataDir }, p),
      (e: unknown) =>
        e instanceof RedisNotFoundError &&
        /REDIS_URL=redis:\/\/:\*\*\*@r:1 does not answer PING/.test(e.message) &&
        !e.message.includes('secret'),
    );
    assert.deepEqual(p.calls, ['ping redis://:secret@r:1']);
  });

  it('uses a Redis on 127.0.0.1:6379 when REDIS_URL is unset', async () => {
    const p = probes({ answering: [LOCAL_REDIS_URL], redisServer: true });
    const r = await resolveRedis({ redisUrl: undefined, dataDir }, p);
    assert.equal(r.url, LOCAL_REDIS_URL);
    assert.equal(r.source, 'local');
    assert.deepEqual(p.calls, [`ping ${LOCAL_REDIS_URL}`]);
  });

  it('starts an embedded redis-server in the data dir when nothing answers on 6379', async () => {
    const p = probes({ redisServer: true, docker: true, testcontainers: true });
    const r = await resolveRedis({ redisUrl: undefined, dataDir }, p);
    assert.equal(r.source, 'embedded');
    assert.deepEqual(p.calls, [`ping ${LOCAL_REDIS_URL}`, 'which redis-server', `embedded ${dataDir}`]);
  });

  it('falls back to Docker only without redis-server', async () => {
    const p = probes({ docker: true, testcontainers: true });
    const r = await resolveRedis({ redisUrl: undefined, dataDir }, p);
    assert.equal(r.source, 'docker');
    assert.deepEqual(p.calls, [
      `ping ${LOCAL_REDIS_URL}`,
      'which redis-server',
      'docker info',
      'docker start',
    ]);
  });

  it('says why Docker was skipped and how to install Redis when nothing works', async () => {
    const notes: string[] = [];
    const p = probes({ docker: true, testcontainers: false });
    await assert.rejects(
      resolveRedis({ redisUrl: undefined, dataDir }, p, (l) => notes.push(l)),
      (e: unknown) =>
        e instanceof RedisNotFoundError &&
        e.message.includes('apt-get install redis-server') &&
        e.message.includes('brew install redis') &&
        e.message.includes('REDIS_URL='),
    );
    assert.ok(notes.some((n) => n.includes('testcontainers is not installed')));
  });

  it('does not try Docker when docker info fails', async () => {
    const p = probes({});
    await assert.rejects(resolveRedis({ redisUrl: undefined, dataDir }, p), RedisNotFoundError);
    assert.ok(!p.calls.includes('docker start'));
  });
});

describe('redactRedisUrl', () => {
  it('hides passwords and keeps the rest', () => {
    assert.equal(redactRedisUrl('redis://user:pw@h:1/2'), 'redis://user:***@h:1/2');
    assert.equal(redactRedisUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
    assert.equal(redactRedisUrl('not a url'), 'not a url');
  });
});
