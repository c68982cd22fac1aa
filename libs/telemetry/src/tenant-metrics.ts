import { Counter, type Registry } from 'prom-client';

/**
 * Per-tenant series. The `tenant` label is bounded: named tenants (the config's
 * `tenants.overrides`, and on the API its key tenants) keep their name, all others share `_other`.
 */
export interface TenantMetrics {
  /** Jobs that ended, by tenant, model and outcome (completed, failed, cancelled, cache_hit). */
  jobs: Counter<'tenant' | 'model' | 'outcome'>;
  /** Tokens of ended jobs by kind (prompt, completion). */
  tokens: Counter<'tenant' | 'model' | 'kind'>;
  /** Submissions refused by a tenant limit (requests, tokens, max_queued). */
  rateLimited: Counter<'tenant' | 'limit'>;
}

const cache = new WeakMap<Registry, TenantMetrics>();

/** The tenant series of a process registry (created once per registry). */
export function tenantMetrics(registry: Registry): TenantMetrics {
  const known = cache.get(registry);
  if (known) return known;
  const registers = [registry];
  const m: TenantMetrics = {
    jobs: new Counter({
      name: 'hotpath_tenant_jobs_total',
      help: 'Jobs that ended by tenant, model and outcome (completed, failed, cancelled, cache_hit)',
      labelNames: ['tenant', 'model', 'outcome'],
      registers,
    }),
    tokens: new Counter({
      name: 'hotpath_tenant_tokens_total',
      help: 'Tokens of ended jobs by tenant, model and kind (prompt, completion)',
      labelNames: ['tenant', 'model', 'kind'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'hotpath_tenant_rate_limited_total',
      help: 'Submissions refused by a tenant limit (requests, tokens, max_queued)',
      labelNames: ['tenant', 'limit'],
      registers,
    }),
  };
  cache.set(registry, m);
  return m;
}
