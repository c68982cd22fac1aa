import { Controller, Get, Header, Inject, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { findModel } from '@hotpath/config';
import { AvailabilityCache, ShardQueues, type RedisClient } from '@hotpath/queue';
import type { HotpathMetrics } from '@hotpath/telemetry';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, METRICS, REDIS_PRODUCER, REDIS_QUEUES } from '../core/tokens';
import { pingRedis, REDIS_RETRY_AFTER_S } from '../redis/redis-availability';
import { collectQueueDepth } from './queue-depth-collector';

const READY_PING_TIMEOUT_MS = 1000;
const SCRAPE_QUEUE_TIMEOUT_MS = 1000;

/** Readiness of one model: live workers and the shards none of them serves. */
export interface ModelReadiness {
  ok: boolean;
  model: string;
  workers: number;
  unserved_shards: number[];
}

/** Readiness answer: each check with its state, plus the error shape of every API error when not ready. */
export interface ReadinessBody {
  status: 'ready' | 'unavailable';
  checks: {
    redis: { ok: boolean; detail?: string };
    config: { ok: boolean; source: string };
    model?: ModelReadiness;
  };
  error?: { code: 'redis_unavailable' | 'model_unavailable'; message: string };
}

/** How long a client should wait after a model was found without workers. */
const MODEL_RETRY_AFTER_S = 5;

/**
 * Operations routes (docs/api.md#operations): liveness, readiness,
 * Prometheus metrics. No API key.
 */
@Controller()
export class OpsController {
  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(REDIS_PRODUCER) private readonly producer: RedisClient,
    @Inject(REDIS_QUEUES) private readonly queueConnection: RedisClient,
    @Inject(ShardQueues) private readonly queues: ShardQueues,
    @Inject(METRICS) private readonly metrics: HotpathMetrics,
    @Inject(AvailabilityCache) private readonly availability: AvailabilityCache,
  ) {}

  /** Alive: the process answers HTTP. Deliberately checks nothing else. */
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready: Redis answers PING in time and the cluster config is loaded; otherwise 503. With
   * `?model=x`, also at least one live worker serves model `x` (every shard of it, counting workers
   * that steal): 503 `model_unavailable` otherwise, 404 for a model that is not configured.
   */
  @Get('readyz')
  async readyz(
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query('model') modelName?: string,
  ): Promise<ReadinessBody> {
    const model = modelName === undefined ? undefined : findModel(this.config.cluster, modelName);
    if (modelName !== undefined && !model) {
      throw new HotpathError(
        ErrorCode.ModelNotFound,
        `model "${modelName.slice(0, 64)}" does not exist`,
        'model',
      );
    }
    // The fail-fast queue connection must be up too: on a Redis Cluster it opens its node
    // connections on its own, and a submission through it before then would get a 503.
    const redisProblem =
      this.queueConnection.status === 'ready'
        ? await pingRedis(this.producer, READY_PING_TIMEOUT_MS)
        : `queue connection ${this.queueConnection.status}`;
    const config = { ok: this.config.cluster.models.length > 0, source: this.config.clusterSource };
    if (redisProblem === undefined && config.ok && model) {
      const live = await this.availability.fresh();
      const unserved = live.unservedShards(model.name, model.shards);
      const workers = live.workerCount(model.name);
      const checks = {
        redis: { ok: true },
        config,
        model: {
          ok: workers > 0 && unserved.length === 0,
          model: model.name,
          workers,
          unserved_shards: unserved,
        },
      };
      if (checks.model.ok) return { status: 'ready', checks };
      void reply.status(503).header('retry-after', String(MODEL_RETRY_AFTER_S));
      return {
        status: 'unavailable',
        checks,
        error: {
          code: 'model_unavailable',
          message:
            workers === 0
              ? `no live worker serves model "${model.name}"`
              : `no live worker serves shard(s) ${unserved.join(', ')} of model "${model.name}"`,
        },
      };
    }
    if (redisProblem === undefined && config.ok) {
      return { status: 'ready', checks: { redis: { ok: true }, config } };
    }
    void reply.status(503).header('retry-after', String(REDIS_RETRY_AFTER_S));
    return {
      status: 'unavailable',
      checks: { redis: { ok: redisProblem === undefined, detail: redisProblem }, config },
      error: { code: 'redis_unavailable', message: `not ready: RedisClient ${redisProblem ?? 'ok'}` },
    };
  }

  /** Prometheus text format; queue depths are read from BullMQ on each scrape. */
  @Get('metrics')
  @Header('cache-control', 'no-store')
  async metricsText(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    await collectQueueDepth(
      this.config.cluster.models,
      this.queues,
      this.producer,
      this.metrics,
      SCRAPE_QUEUE_TIMEOUT_MS,
    );
    void reply.type(this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
