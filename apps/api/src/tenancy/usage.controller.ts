import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import type { RedisClient } from '@hotpath/queue';
import { TenantSettings } from '@hotpath/config';
import { USAGE_BUCKET_MS, UsageStore } from '@hotpath/queue';
import { ApiKeyGuard, Tenant } from '../auth/api-key.guard';
import { REDIS_PRODUCER } from '../core/tokens';
import { assertRedisReady } from '../redis/redis-availability';
import { usageWindow } from './usage-window';

/** `GET /v1/usage`: the calling tenant's own usage over a time window, from per-minute counters. */
@Controller('v1/usage')
@UseGuards(ApiKeyGuard)
export class UsageController {
  constructor(
    @Inject(REDIS_PRODUCER) private readonly producer: RedisClient,
    @Inject(TenantSettings) private readonly tenants: TenantSettings,
    @Inject(UsageStore) private readonly usage: UsageStore,
  ) {}

  @Get()
  async get(
    @Tenant() tenant: string,
    @Query('start') start: string | undefined,
    @Query('end') end: string | undefined,
  ): Promise<Record<string, unknown>> {
    const { startMs, endMs } = usageWindow(
      { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) },
      Date.now(),
      this.tenants.current().usage_retention_s,
    );
    assertRedisReady(this.producer);
    const r = await this.usage.report(tenant, startMs, endMs);
    return {
      object: 'usage',
      tenant,
      start: new Date(r.startMs).toISOString(),
      end: new Date(r.endMs).toISOString(),
      bucket_s: USAGE_BUCKET_MS / 1000,
      totals: r.totals,
      models: r.models,
    };
  }
}
