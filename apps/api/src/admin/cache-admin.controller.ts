import { Controller, Delete, Inject, Param, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ResultCache } from '@hotpath/cache';
import { findModel } from '@hotpath/config';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import type { Logger } from '@hotpath/telemetry';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, LOGGER } from '../core/tokens';
import { AdminKeyGuard } from '../webhooks/admin-key.guard';
import { ADMIN_RESULT_CACHE } from './admin-tokens';
import { requestLogFields } from '../http/http-hooks';

/** The answer of a purge. */
export interface CachePurgeView {
  model: string;
  /** Entries deleted. */
  purged: number;
}

/** Operator routes of the exact result cache. */
@Controller('v1/admin/cache')
@UseGuards(AdminKeyGuard)
export class CacheAdminController {
  constructor(
    @Inject(ADMIN_RESULT_CACHE) private readonly cache: ResultCache,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Deletes every result-cache entry of a model, of every tenant and model version. Jobs already
   * coalesced onto a running job are not affected; the workers' prefix KV caches are not either.
   */
  @Delete(':model')
  async purge(@Param('model') model: string, @Req() request: FastifyRequest): Promise<CachePurgeView> {
    if (!findModel(this.config.cluster, model)) {
      throw new HotpathError(
        ErrorCode.ModelNotFound,
        `model "${model.slice(0, 64)}" does not exist`,
        'model',
      );
    }
    const purged = await this.cache.purge(model);
    const openMode = (this.config.admin?.keys.length ?? 0) === 0;
    // Open dev mode lets anyone purge: say so every time, not only at start-up.
    const fields = { ...requestLogFields(request), model, purged };
    if (openMode) this.logger.warn('result cache purged without an admin key (open dev mode)', fields);
    else this.logger.info('result cache purged', fields);
    return { model, purged };
  }
}
