import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { errorOf } from '../testing/error-of';
import { loadApiConfig } from './api-config';

const base = { REDIS_URL: 'redis://127.0.0.1:6379' };

describe('loadApiConfig', () => {
  it('applies defaults and the built-in cluster config', () => {
    const c = loadApiConfig(base);
    assert.deepEqual(c.http, { host: '0.0.0.0', port: 3000 });
    assert.equal(c.results.ttlS, 3600);
    assert.equal(c.clusterSource, 'built-in');
    assert.deepEqual(c.auth.keys, []);
  });

  it('names every bad variable', () => {
    const e = errorOf(() =>
      loadApiConfig({ REDIS_URL: 'http://x', PORT: '70000', HOTPATH_RESULT_TTL_S: '0' }),
    );
    assert.match(e.message, /REDIS_URL/);
    assert.match(e.message, /PORT/);
    assert.match(e.message, /HOTPATH_RESULT_TTL_S/);
    assert.match(errorOf(() => loadApiConfig({})).message, /REDIS_URL/);
  });

  it('merges keys from HOTPATH_API_KEYS and HOTPATH_API_KEYS_FILE', () => {
    const c = loadApiConfig({ ...base, HOTPATH_API_KEYS: 'a:k1', HOTPATH_API_KEYS_FILE: '/keys' }, (p) =>
      p === '/keys' ? 'b:k2\nc:k3,d:k4\n' : '',
    );
    assert.deepEqual(
      c.auth.keys.map((k) => k.tenant),
      ['a', 'b', 'c', 'd'],
    );
  });

  it('reports an unreadable or empty key file by variable name', () => {
    const unreadable = errorOf(() =>
      loadApiConfig({ ...base, HOTPATH_API_KEYS_FILE: '/nope' }, () => {
        throw new Error('ENOENT');
      }),
    );
    assert.match(unreadable.message, /^HOTPATH_API_KEYS_FILE: cannot read \/nope/);
    const empty = errorOf(() => loadApiConfig({ ...base, HOTPATH_API_KEYS_FILE: '/e' }, () => '# none\n'));
    assert.match(empty.message, /HOTPATH_API_KEYS_FILE: \/e holds no tenant:key entries/);
  });

  it('reports a missing cluster config under HOTPATH_CONFIG', () => {
    assert.match(
      errorOf(() => loadApiConfig({ ...base, HOTPATH_CONFIG: '/no/such.yaml' })).message,
      /^HOTPATH_CONFIG: /,
    );
  });
});
