import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClusterConfigSchema, DEFAULT_ANTICIPATE_MS, fairLookahead, tenantLimits } from '@hotpath/contracts';
import {
  OTHER_TENANT_LABEL,
  TenantSettings,
  parseTenantsEnv,
  reloadTenants,
  tenantMetricLabel,
  withTenantsFromEnv,
} from './tenants-config';

describe('tenant settings', () => {
  it('default to weight 1, no limits, fairness on with a lookahead of an eighth of concurrency and anticipation', () => {
    const c = ClusterConfigSchema.parse({ models: [{ name: 'm', backend: 'sim', concurrency: 20 }] });
    assert.deepEqual(tenantLimits(c.tenants, 'anyone'), { weight: 1 });
    const m = c.models[0];
    assert.ok(m);
    assert.equal(m.fairness.enabled, true);
    assert.equal(fairLookahead(m), 3);
    assert.equal(m.fairness.anticipate_ms, DEFAULT_ANTICIPATE_MS);
    assert.equal(fairLookahead({ ...m, fairness: { ...m.fairness, lookahead: 7 } }), 7);
  });

  it('merge a tenant’s override over the defaults; null lifts a default limit', () => {
    const tenants = parseTenantsEnv(
      JSON.stringify({
        defaults: { requests_per_s: 10, max_queued: 100 },
        overrides: { big: { weight: 4, max_queued: null }, small: { requests_per_s: 1 } },
      }),
    );
    assert.deepEqual(tenantLimits(tenants, 'big'), { weight: 4, requests_per_s: 10 });
    assert.deepEqual(tenantLimits(tenants, 'small'), { weight: 1, requests_per_s: 1, max_queued: 100 });
    assert.deepEqual(tenantLimits(tenants, 'other'), { weight: 1, requests_per_s: 10, max_queued: 100 });
  });

  it('name the variable and the field of a bad HOTPATH_TENANTS', () => {
    assert.throws(() => parseTenantsEnv('overrides: {a: {weight: 0}}'), /HOTPATH_TENANTS[\s\S]*weight/);
    assert.throws(() => parseTenantsEnv('overrides: {"bad name": {}}'), /HOTPATH_TENANTS/);
    assert.throws(() => parseTenantsEnv('{'), /not valid YAML or JSON/);
  });

  it('take HOTPATH_TENANTS over the file’s section, and reload either', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hp-tenants-'));
    const file = join(dir, 'cluster.yaml');
    writeFileSync(file, 'models: [{name: m, backend: sim}]\ntenants: {overrides: {a: {weight: 2}}}\n');
    const base = ClusterConfigSchema.parse({ models: [{ name: 'm', backend: 'sim' }] });
    assert.equal(withTenantsFromEnv(base, 'overrides: {b: {weight: 3}}').tenants.overrides['b']?.weight, 3);
    assert.equal(withTenantsFromEnv(base, undefined), base);
    assert.equal(reloadTenants(file, undefined, dir).overrides['a']?.weight, 2);
    assert.equal(reloadTenants(file, 'overrides: {c: {}}', dir).overrides['c']?.weight, undefined);
    const settings = new TenantSettings(base.tenants);
    const seen: number[] = [];
    settings.onChange((c) => seen.push(Object.keys(c.overrides).length));
    settings.replace(reloadTenants(file, undefined, dir));
    assert.deepEqual(seen, [1]);
    assert.equal(tenantLimits(settings.current(), 'a').weight, 2);
  });

  it('bound the tenant label to named tenants', () => {
    const tenants = parseTenantsEnv('overrides: {acme: {}}');
    assert.equal(tenantMetricLabel(tenants, 'acme'), 'acme');
    assert.equal(tenantMetricLabel(tenants, 'key-tenant', new Set(['key-tenant'])), 'key-tenant');
    assert.equal(tenantMetricLabel(tenants, 'stranger'), OTHER_TENANT_LABEL);
  });
});
