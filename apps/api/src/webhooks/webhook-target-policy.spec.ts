import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { HotpathError } from '@hotpath/contracts';
import { parseAllowedHosts } from '../config/api-config';
import { WebhookTargetPolicy, hostAllowed } from './webhook-target-policy';

function refusal(policy: WebhookTargetPolicy, url: string): string {
  try {
    policy.check(url);
  } catch (err) {
    assert.ok(err instanceof HotpathError);
    assert.equal(err.param, 'webhook.url');
    return err.message;
  }
  return '';
}

describe('webhook target policy', () => {
  it('matches exact hosts, *.domain (subdomains only), IP literals and *', () => {
    const list = ['hooks.example.com', '*.acme.io', '127.0.0.1', '[::1]'];
    assert.equal(hostAllowed('hooks.example.com', list), true);
    assert.equal(hostAllowed('HOOKS.example.com.', list), true);
    assert.equal(hostAllowed('evil.example.com', list), false);
    assert.equal(hostAllowed('a.acme.io', list), true);
    assert.equal(hostAllowed('a.b.acme.io', list), true);
    assert.equal(hostAllowed('acme.io', list), false);
    assert.equal(hostAllowed('evilacme.io', list), false);
    assert.equal(hostAllowed('127.0.0.1', list), true);
    assert.equal(hostAllowed('[::1]', list), true);
    assert.equal(hostAllowed('anything', ['*']), true);
  });

  it('allows only http(s) targets on the list, without credentials', () => {
    const p = new WebhookTargetPolicy(['127.0.0.1', '*.example.com'], false);
    assert.equal(refusal(p, 'http://127.0.0.1:8080/hook'), '');
    assert.equal(refusal(p, 'https://a.example.com/hook?x=1'), '');
    assert.match(refusal(p, 'http://10.0.0.1/hook'), /not on the allow-list/);
    assert.match(refusal(p, 'ftp://127.0.0.1/hook'), /http or https/);
    assert.match(refusal(p, 'http://user:pw@127.0.0.1/hook'), /credentials/);
    assert.match(refusal(p, 'not a url'), /not a valid URL/);
  });

  it('defaults to any host in open dev mode and to none with API keys', () => {
    assert.equal(refusal(new WebhookTargetPolicy(undefined, true), 'http://10.1.2.3/x'), '');
    assert.match(refusal(new WebhookTargetPolicy(undefined, false), 'https://example.com/x'), /disabled/);
  });

  it('parses HOTPATH_WEBHOOK_ALLOWED_HOSTS', () => {
    assert.equal(parseAllowedHosts(undefined), undefined);
    assert.equal(parseAllowedHosts('  '), undefined);
    assert.deepEqual(parseAllowedHosts(' Hooks.Example.com, *.acme.io ,127.0.0.1,'), [
      'hooks.example.com',
      '*.acme.io',
      '127.0.0.1',
    ]);
    assert.throws(() => parseAllowedHosts('a b'), /HOTPATH_WEBHOOK_ALLOWED_HOSTS/);
    assert.throws(() => parseAllowedHosts('*.*.io'), /HOTPATH_WEBHOOK_ALLOWED_HOSTS/);
  });
});
