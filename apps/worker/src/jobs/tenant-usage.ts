import type { Usage } from '@hotpath/contracts';
import { tenantMetricLabel, type TenantSettings } from '@hotpath/config';
import type { UsageStore } from '@hotpath/queue';
import type { Logger, TenantMetrics } from '@hotpath/telemetry';

/** How a job ended, as the tenant counters see it (a deadline is a failure). */
export type TenantOutcome = 'completed' | 'failed' | 'cancelled';

/**
 * Counts each job that ends on this worker for its tenant: the per-minute usage counters behind
 * `GET /v1/usage` (jobs by outcome, prompt and completion tokens) and the bounded Prometheus series.
 * The Redis write is not awaited (a job's end is not held up by its accounting); a failure is
 * logged, never allowed to fail the job.
 */
export class TenantUsage {
  constructor(
    private readonly usage: UsageStore,
    private readonly settings: TenantSettings,
    private readonly metrics: TenantMetrics,
    private readonly logger: Logger,
  ) {}

  ended(tenant: string, model: string, outcome: TenantOutcome, usage: Usage | null): void {
    const label = tenantMetricLabel(this.settings.current(), tenant);
    this.metrics.jobs.inc({ tenant: label, model, outcome });
    if (usage) {
      if (usage.prompt_tokens > 0)
        this.metrics.tokens.inc({ tenant: label, model, kind: 'prompt' }, usage.prompt_tokens);
      if (usage.completion_tokens > 0)
        this.metrics.tokens.inc({ tenant: label, model, kind: 'completion' }, usage.completion_tokens);
    }
    void this.usage
      .add(tenant, model, {
        [outcome]: 1,
        prompt_tokens: usage?.prompt_tokens ?? 0,
        completion_tokens: usage?.completion_tokens ?? 0,
      })
      .catch((err: unknown) =>
        this.logger.warn('could not record tenant usage', { tenant, model, error: err }),
      );
  }
}
