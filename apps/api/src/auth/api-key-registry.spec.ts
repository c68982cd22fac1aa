import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ApiKeyRegistry, bearerKey } from './api-key-registry';

describe('ApiKeyRegistry', () => {
  const registry = new ApiKeyRegistry([
    { tenant: 'acme', key: 'acme-key-1' },
    { tenant: 'acme', key: 'acme-key-2' },
    { tenant: 'beta', key: 'beta-key' },
  ]);

  it('resolves every configured key to its tenant', () => {
    assert.equal(registry.lookup('acme-key-1'), 'acme');
    assert.equal(registry.lookup('acme-key-2'), 'acme');
    assert.equal(registry.lookup('beta-key'), 'beta');
    assert.deepEqual(registry.tenants, ['acme', 'beta']);
    assert.equal(registry.openMode, false);
  });

  it('rejects unknown keys, prefixes, extensions and different lengths', () => {
    for (const k of ['', 'acme-key', 'acme-key-10', 'beta-key ', 'BETA-KEY', 'x'.repeat(10_000)]) {
      assert.equal(registry.lookup(k), undefined, k.slice(0, 20));
    }
  });

  it('is in open mode with no keys', () => {
    const open = new ApiKeyRegistry([]);
    assert.equal(open.openMode, true);
    assert.equal(open.lookup('anything'), undefined);
  });
});

describe('bearerKey', () => {
  it('extracts the token of a Bearer header, case-insensitively', () => {
    assert.equal(bearerKey('Bearer abc'), 'abc');
    assert.equal(bearerKey('bearer   abc '), 'abc');
  });

  it('returns undefined for other schemes and malformed headers', () => {
    for (const h of [undefined, '', 'Basic abc', 'Bearer', 'Bearer a b', 'abc']) {
      assert.equal(bearerKey(h), undefined, String(h));
    }
  });
});
