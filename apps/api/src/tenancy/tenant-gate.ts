import { tenantLimits, type JobRequest, type ModelConfig, type TenantLimits } from '@hotpath/contracts';
import { tenantMetricLabel, type TenantSettings } from '@hotpath/config';
import type { RateDecision, RateLimiter, UsageStore } from '@hotpath/queue';
import type { TenantMetrics } from '@hotpath/telemetry';
import { RateLimitError, rateLimitHeaders, type TenantLimitKind } from './rate-limit-error';
import { estimateRequestTokens } from './token-estimate';

export interface TenantGateDeps {
  limiter: RateLimiter;
  settings: TenantSettings;
  metrics: TenantMetrics;
  usage: UsageStore;
  /** Tenants with their own Prometheus series besides the configured ones (the API key tenants). */
  known: ReadonlySet<string>;
}

/**
 * The per-tenant checks of a submission before anything is stored: requests/s and tokens/min
 * (token buckets shared by every API replica). A refusal is a {@link RateLimitError} (429) that
 * carries `Retry-After` and the `x-ratelimit-*` headers, and is counted in the tenant's usage.
 */
export class TenantGate {
  constructor(private readonly deps: TenantGateDeps) {}

  limits(tenant: string): TenantLimits {
    return tenantLimits(this.deps.settings.current(), tenant);
  }

  /** The rate-limit headers of an accepted request; `undefined` when the tenant has no rate limit. */
  async admit(
    tenant: string,
    req: JobRequest,
    model: ModelConfig,
  ): Promise<Record<string, string> | undefined> {
    const l = this.limits(tenant);
    if (l.requests_per_s === undefined && l.tokens_per_min === undefined) return undefined;
    const cost = l.tokens_per_min === undefined ? 0 : estimateRequestTokens(req, model);
    if (l.tokens_per_min !== undefined && cost > l.tokens_per_min) {
      throw await this.refuse(
        tenant,
        model.name,
        'tokens',
        `this request counts ~${cost} tokens (prompt estimate + max_tokens), more than the ${l.tokens_per_min} tokens per minute allowed to tenant "${tenant}"; lower max_tokens or the input`,
        60_000,
        {},
      );
    }
    const d = await this.deps.limiter.take(
      tenant,
      {
        ...(l.requests_per_s !== undefined ? { requestsPerS: l.requests_per_s } : {}),
        ...(l.burst !== undefined ? { burst: l.burst } : {}),
        ...(l.tokens_per_min !== undefined ? { tokensPerMin: l.tokens_per_min } : {}),
      },
      cost,
    );
    const headers = rateLimitHeaders(d);
    if (d.allowed) return headers;
    const kind = exhausted(d, cost);
    const what =
      kind === 'requests'
        ? `${l.requests_per_s} requests per second (burst ${d.requests?.limit ?? 1})`
        : `${l.tokens_per_min} tokens per minute (this request counts ~${cost})`;
    throw await this.refuse(
      tenant,
      model.name,
      kind,
      `rate limit reached for tenant "${tenant}": ${what}; retry after ${Math.ceil(d.retryAfterMs / 1000)} s`,
      d.retryAfterMs,
      headers,
    );
  }

  /** The refusal of a submission over `max_queued`. */
  async overQueued(tenant: string, model: string, queued: number, max: number): Promise<RateLimitError> {
    return this.refuse(
      tenant,
      model,
      'max_queued',
      `tenant "${tenant}" has ${queued} jobs waiting for model "${model}"; at most ${max} may wait (max_queued)`,
      1000,
      {},
    );
  }

  /** Counts a refusal (Prometheus and usage) and builds its error. */
  private async refuse(
    tenant: string,
    model: string,
    kind: TenantLimitKind,
    message: string,
    retryAfterMs: number,
    headers: Record<string, string>,
  ): Promise<RateLimitError> {
    this.deps.metrics.rateLimited.inc({
      tenant: tenantMetricLabel(this.deps.settings.current(), tenant, this.deps.known),
      limit: kind,
    });
    await this.deps.usage.add(tenant, model, { rate_limited: 1 }).catch(() => undefined);
    return new RateLimitError(message, kind, Math.max(1, Math.ceil(retryAfterMs / 1000)), headers);
  }
}

/** Which bucket refused: the requests bucket when it is empty, else the tokens bucket. */
function exhausted(d: RateDecision, cost: number): TenantLimitKind {
  if (d.requests && d.requests.remaining < 1) return 'requests';
  if (d.tokens && d.tokens.remaining < cost) return 'tokens';
  return 'requests';
}
