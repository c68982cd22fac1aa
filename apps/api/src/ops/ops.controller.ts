import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ShardQueues, type RedisClient } from '@hotpath/queue';
import type { HotpathMetrics } from '@hotpath/telemetry';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG, METRICS, REDIS_PRODUCER } from '../core/tokens';
import { pingRedis, REDIS_RETRY_AFTER_S } from '../redis/redis-availability';
import { collectQueueDepth } from './queue-depth.collector';

const READY_PING_TIMEOUT_MS = 1000;
const SCRAPE_QUEUE_TIMEOUT_MS = 1000;

/** Readiness answer: each check with its state, plus the SPEC error shape when not ready. */
export interface ReadinessBody {
  status: 'ready' | 'unavailable';
  checks: { redis: { ok: boolean; detail?: string }; config: { ok: boolean; source: string } };
  error?: { code: 'redis_unavailable'; message: string };
}

/** Operations routes (SPEC §3.3): liveness, readiness, Prometheus metrics. No API key. */
@Controller()
export class OpsController {
  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(REDIS_PRODUCER) private readonly producer: RedisClient,
    @Inject(ShardQueues) private readonly queues: ShardQueues,
    @Inject(METRICS) private readonly metrics: HotpathMetrics,
  ) {}

  /** Alive: the process answers HTTP. Deliberately checks nothing else. */
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready: RedisClient answers PING in time and the cluster config is loaded; otherwise 503. */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessBody> {
    const redisProblem = await pingRedis(this.producer, READY_PING_TIMEOUT_MS);
    const config = { ok: this.config.cluster.models.length > 0, source: this.config.clusterSource };
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
