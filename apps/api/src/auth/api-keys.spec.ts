import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { errorOf } from '../testing/error-of';
import { assertUniqueKeys, parseApiKeyFile, parseApiKeyList } from './api-keys';

describe('parseApiKeyList', () => {
  it('parses tenant:key pairs, trimming spaces and a trailing comma', () => {
    assert.deepEqual(parseApiKeyList(' acme:k-1 , beta:k:2,', 'HOTPATH_API_KEYS'), [
      { tenant: 'acme', key: 'k-1' },
      { tenant: 'beta', key: 'k:2' },
    ]);
  });

  it('accepts an empty string as no keys', () => {
    assert.deepEqual(parseApiKeyList('', 'HOTPATH_API_KEYS'), []);
  });

  it('names the variable and the entry, never the key', () => {
    const e = errorOf(() => parseApiKeyList('acme:ok,secretwithoutcolon', 'HOTPATH_API_KEYS'));
    assert.equal(e.code, 'invalid_config');
    assert.match(e.message, /HOTPATH_API_KEYS entry 2 has no ":"/);
    assert.doesNotMatch(e.message, /secretwithoutcolon/);
  });

  it('rejects empty tenants, empty keys, bad tenant names and empty middle entries', () => {
    assert.match(errorOf(() => parseApiKeyList(':key', 'V')).message, /V entry 1 has an empty tenant/);
    assert.match(
      errorOf(() => parseApiKeyList('acme:', 'V')).message,
      /V entry 1 \(tenant "acme"\) has an empty key/,
    );
    assert.match(errorOf(() => parseApiKeyList('a b:key', 'V')).message, /V entry 1: tenant "a b" must be/);
    assert.match(errorOf(() => parseApiKeyList('a:k1,,b:k2', 'V')).message, /V entry 2 is empty/);
    assert.match(errorOf(() => parseApiKeyList('a:k 1', 'V')).message, /key contains whitespace/);
  });
});

describe('parseApiKeyFile', () => {
  it('reads one or more entries per line, skipping blanks and comments', () => {
    const text = '# keys\nacme:k1\n\n  beta:k2, gamma:k3  \r\n# end\n';
    assert.deepEqual(
      parseApiKeyFile(text, '/etc/keys').map((e) => e.tenant),
      ['acme', 'beta', 'gamma'],
    );
  });

  it('names the file and the line of a bad entry', () => {
    const e = errorOf(() => parseApiKeyFile('acme:k1\n# c\nbeta:k2,broken\n', '/etc/keys'));
    assert.match(e.message, /HOTPATH_API_KEYS_FILE \/etc\/keys line 3 entry 2 has no ":"/);
  });
});

describe('assertUniqueKeys', () => {
  it('allows several keys per tenant but not one key for two tenants', () => {
    assertUniqueKeys([
      { tenant: 'a', key: 'k1' },
      { tenant: 'a', key: 'k2' },
    ]);
    const e = errorOf(() =>
      assertUniqueKeys([
        { tenant: 'a', key: 'zq-dup-key' },
        { tenant: 'b', key: 'zq-dup-key' },
      ]),
    );
    assert.match(e.message, /tenants "a" and "b"/);
    assert.doesNotMatch(e.message, /zq-dup-key/);
  });
});
