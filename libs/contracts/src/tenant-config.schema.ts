import { z } from 'zod';

/** Tenant names as API keys define them (`tenant:key`). */
export const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * What one tenant may use. Every limit is optional: unset means unlimited. Rates are token buckets
 * shared by every API replica (in Redis); queue limits are enforced where jobs wait.
 */
const tenantLimitsShape = {
  /** Share of a model's capacity under contention, relative to other tenants (deficit round-robin). */
  weight: z.number().min(0.01).max(1000),
  /** Sustained submissions per second (one job = one request; a batch counts each member). */
  requests_per_s: z.number().min(0.001).max(1_000_000),
  /** Submissions that may arrive at once before `requests_per_s` applies; default max(1, requests_per_s). */
  burst: z.int().min(1).max(10_000_000),
  /** Estimated tokens (prompt + max_tokens, or input of embeddings) per minute; the bucket holds a minute. */
  tokens_per_min: z.int().min(1).max(1_000_000_000),
  /** Jobs of the tenant waiting for a model (not yet handed to workers), over the model's shards. */
  max_queued: z.int().min(1).max(10_000_000),
  /** Jobs of the tenant handed to workers (running or about to) per shard queue of a model. */
  max_running: z.int().min(1).max(1_000_000),
};

export const TenantLimitsSchema = z.strictObject({
  weight: tenantLimitsShape.weight.default(1),
  requests_per_s: tenantLimitsShape.requests_per_s.optional(),
  burst: tenantLimitsShape.burst.optional(),
  tokens_per_min: tenantLimitsShape.tokens_per_min.optional(),
  max_queued: tenantLimitsShape.max_queued.optional(),
  max_running: tenantLimitsShape.max_running.optional(),
});
export type TenantLimits = z.infer<typeof TenantLimitsSchema>;

/** One tenant's settings: any field it leaves out comes from `tenants.defaults`. */
export const TenantOverrideSchema = z.strictObject({
  weight: tenantLimitsShape.weight.optional(),
  requests_per_s: tenantLimitsShape.requests_per_s.nullable().optional(),
  burst: tenantLimitsShape.burst.nullable().optional(),
  tokens_per_min: tenantLimitsShape.tokens_per_min.nullable().optional(),
  max_queued: tenantLimitsShape.max_queued.nullable().optional(),
  max_running: tenantLimitsShape.max_running.nullable().optional(),
});
export type TenantOverride = z.infer<typeof TenantOverrideSchema>;

/** The `tenants` section of the cluster config (or `HOTPATH_TENANTS`). */
export const TenantsSchema = z
  .strictObject({
    defaults: TenantLimitsSchema.prefault({}),
    /** Per-tenant settings by tenant name; these tenants also get their own Prometheus series. */
    overrides: z
      .record(
        z.string().regex(TENANT_NAME, 'a tenant name: 1-64 letters, digits, ".", "_" or "-"'),
        TenantOverrideSchema,
      )
      .default({}),
    /** How long per-minute usage counters (`GET /v1/usage`) are kept. */
    usage_retention_s: z
      .int()
      .min(3600)
      .max(90 * 24 * 3600)
      .default(7 * 24 * 3600),
  })
  .prefault({});
export type TenantsConfig = z.infer<typeof TenantsSchema>;

/**
 * How long a worker keeps a freed slot for the next job of its tenant (`fairness.anticipate_ms`):
 * longer than a client's turnaround between answer and next request on a busy host (a few ms),
 * short enough that a tenant that does not come back costs its slot little (docs/tenancy.md).
 */
export const DEFAULT_ANTICIPATE_MS = 20;

/**
 * Fair queuing of a model: jobs wait in per-tenant queues inside each shard and are handed to the
 * shard's BullMQ queue in weighted deficit round-robin order, `lookahead` at a time.
 */
export const FairnessSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /**
     * Jobs kept in the shard's BullMQ queue ahead of the workers. Unset: at least an eighth of
     * `concurrency` (at least 1), grown up to `concurrency` when the workers take jobs faster than
     * a hand-off round refills them. Set: exactly this many. Lower = a newly active tenant waits
     * behind fewer jobs; higher = workers never wait for a refill.
     */
    lookahead: z.int().min(1).max(100_000).optional(),
    /**
     * Anticipation: when a job of a tenant with nothing else waiting ends while other tenants'
     * jobs wait, the worker keeps that slot for this long for the tenant's next job (a client
     * that sends its next request once the last one is answered looks idle for a moment). 0 = off.
     */
    anticipate_ms: z.int().min(0).max(1000).default(DEFAULT_ANTICIPATE_MS),
  })
  .prefault({});
export type FairnessConfig = z.infer<typeof FairnessSchema>;

/** The effective limits of `tenant`: its override over the defaults (`null` in an override = unlimited). */
export function tenantLimits(tenants: TenantsConfig, tenant: string): TenantLimits {
  const o = tenants.overrides[tenant];
  if (!o) return tenants.defaults;
  const out: Record<string, unknown> = { ...tenants.defaults };
  for (const [k, v] of Object.entries(o)) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = v;
  }
  return out as TenantLimits;
}

/**
 * The lookahead a model's fair queue keeps in BullMQ at least (also the API's bound for handing a
 * job straight to BullMQ).
 */
export function fairLookahead(model: { concurrency: number; fairness: FairnessConfig }): number {
  return model.fairness.lookahead ?? Math.max(1, Math.ceil(model.concurrency / 8));
}

/**
 * Up to how many jobs a worker may grow a shard's lookahead to when its jobs take less time than a
 * hand-off round: `concurrency` by default; a configured `lookahead` is kept fixed.
 */
export function maxFairLookahead(model: { concurrency: number; fairness: FairnessConfig }): number {
  return model.fairness.lookahead ?? Math.max(fairLookahead(model), model.concurrency);
}
