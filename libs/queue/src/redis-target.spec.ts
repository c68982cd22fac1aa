import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { HotpathError } from '@hotpath/contracts';
import { durabilityOf, parseHostPorts, parseRedisTarget, redisTargetFromEnv } from './redis-target';

const env = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  REDIS_MODE: 'standalone' as const,
  HOTPATH_REDIS_WAIT_REPLICAS: 0,
  HOTPATH_REDIS_WAIT_TIMEOUT_MS: 1000,
};

describe('Redis target (REDIS_MODE, REDIS_SENTINELS, HOTPATH_REDIS_WAIT_REPLICAS)', () => {
  it('parses the three modes', () => {
    const s = redisTargetFromEnv(env);
    assert.equal(s.mode, 'standalone');
    assert.deepEqual(s.seeds, [{ host: '127.0.0.1', port: 6379 }]);
    assert.equal(durabilityOf(s), undefined);
    const c = redisTargetFromEnv({
      ...env,
      REDIS_URL: 'rediss://:pw@a:7000, rediss://:pw@b:7001',
      REDIS_MODE: 'cluster',
      HOTPATH_REDIS_WAIT_REPLICAS: 1,
    });
    assert.deepEqual(c.seeds, [
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
    assert.equal(c.url, 'rediss://:pw@a:7000');
    assert.deepEqual(durabilityOf(c), { replicas: 1, timeoutMs: 1000 });
    const t = redisTargetFromEnv({
      ...env,
      REDIS_MODE: 'sentinel',
      REDIS_SENTINELS: 's1:26379,[::1]:26380',
      REDIS_SENTINEL_NAME: 'hotpath',
    });
    assert.deepEqual(t.sentinels, [
      { host: 's1', port: 26379 },
      { host: '::1', port: 26380 },
    ]);
    assert.equal(t.sentinelName, 'hotpath');
  });

  it('refuses inconsistent settings with invalid_config and the variable name', () => {
    const bad = (input: Parameters<typeof parseRedisTarget>[0], re: RegExp): void => {
      assert.throws(
        () => parseRedisTarget(input),
        (err: unknown) =>
          err instanceof HotpathError && err.code === 'invalid_config' && re.test(err.message),
      );
    };
    bad(
      { url: 'redis://a:1,redis://b:2' },
      /REDIS_URL: several URLs are only allowed with REDIS_MODE=cluster/,
    );
    bad({ url: 'redis://a:1', mode: 'sentinel' }, /REDIS_SENTINELS/);
    bad({ url: 'redis://a:1', sentinels: 'a:1' }, /need REDIS_MODE=sentinel/);
    bad({ url: 'redis://a:1/2', mode: 'cluster' }, /database 0/);
    bad({ url: 'http://a:1' }, /redis:\/\/ or rediss:\/\//);
    assert.throws(() => parseHostPorts('a', 'REDIS_SENTINELS'), /REDIS_SENTINELS: "a" is not host:port/);
    assert.throws(() => parseHostPorts('a:99999', 'REDIS_SENTINELS'), /port 1-65535/);
  });
});
