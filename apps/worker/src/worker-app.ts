import { CpuPlacement, type CpuPlacementMode } from '@hotpath/model-runtime';
import { eventFlushMaxMs, type ClusterConfig } from '@hotpath/contracts';
import { TenantSettings } from '@hotpath/config';
import { ResultCache, SingleFlight } from '@hotpath/cache';
import {
  JobStore,
  USAGE_FLUSH_MS,
  UsageStore,
  WorkerRegistry,
  durabilityOf,
  standaloneTarget,
  type JobEventPublisher,
  type RedisClient,
  type RedisTarget,
  type ShardSelection,
} from '@hotpath/queue';
import {
  createLogger,
  createMetrics,
  tenantMetrics,
  type HotpathMetrics,
  type LogLevel,
  type Logger,
} from '@hotpath/telemetry';
import { createBackend, type BackendFactory } from './backends/backend-factory';
import { Heartbeat } from './heartbeat/heartbeat';
import { servedModelBeats } from './heartbeat/served-model-info';
import { startHealthServer, type Readiness } from './http/health-server';
import { CacheFiller } from './jobs/cache-filler';
import { CancelListener } from './jobs/cancel-listener';
import { FailedJobSweeper } from './jobs/failed-job-sweeper';
import { JobRunner, type ServedModel } from './jobs/job-runner';
import { TenantUsage } from './jobs/tenant-usage';
import { createFairDispatch, listenForFairWaiting } from './scheduling/fair-hand-off';
import { ShardConsumers } from './scheduling/shard-consumers';
import { shutDownGracefully } from './shutdown/graceful-shutdown';
import { CleanupStack } from './startup/cleanup-stack';
import { openWorkerConnections, type WorkerConnections } from './startup/redis-connections';
import { planServedQueues, type ServedQueue } from './startup/served-queues';
import { publishModelMetadata, startBackends } from './startup/served-models';
import { createJobEventStream } from './streaming/job-event-stream';
import { QueueDepthPoller } from './telemetry/queue-depth-poller';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from './webhooks/webhook-settings';
import { startWebhooks, type WorkerWebhooks } from './webhooks/worker-webhooks';
import { version } from '../package.json';

/** Everything {@link startWorker} needs, already parsed and validated. */
export interface WorkerOptions {
  /** A standalone Redis URL, or the target parsed from REDIS_MODE and friends. */
  redis: string | RedisTarget;
  cluster: ClusterConfig;
  /** Shards to serve (`WORKER_SHARDS`), `all` for every shard of every model. */
  shards: ShardSelection | 'all';
  metricsHost: string;
  /** 0 picks a free port; the handle reports the one in use. */
  metricsPort: number;
  workerId: string;
  /** `HOTPATH_RESULT_TTL_S`. */
  resultTtlS: number;
  logLevel?: LogLevel;
  /** Defaults to a JSON-lines logger for `hotpath-worker` at `logLevel`. */
  logger?: Logger;
  /** Defaults to picking by `model.backend` ({@link createBackend}). */
  backendFactory?: BackendFactory;
  /** `hotpath_queue_depth` sampling period; default 5000 ms. */
  queueDepthIntervalMs?: number;
  /** How often work stealing re-checks the own shards' backlog; default 250 ms. */
  stealIntervalMs?: number;
  /** Webhook delivery (`HOTPATH_WEBHOOK_*`); defaults to {@link DEFAULT_WEBHOOK_SETTINGS}. */
  webhooks?: WebhookSettings;
  /** Tenant settings (reloadable); defaults to the cluster config's `tenants`. */
  tenants?: TenantSettings;
  /**
   * `WORKER_CPU_PLACEMENT`: `auto` gives single-thread replicas cores of their own (docs/engine.md#cpu-placement).
   * Default `off`: several in-process workers (tests) must not pin their one shared process.
   */
  cpuPlacement?: CpuPlacementMode;
}

/** A running worker. */
export interface WorkerHandle {
  workerId: string;
  /** Port of the metrics/health server. */
  metricsPort: number;
  queues: readonly ServedQueue[];
  metrics: HotpathMetrics;
  readiness(): Readiness;
  /** Jobs running right now. */
  activeJobs(): number;
  /**
   * Graceful shutdown: stops taking jobs at once, lets running jobs finish for `graceMs` (default
   * `config.queue.shutdown_grace_ms`), then aborts the rest and hands them back to their queues
   * without consuming an attempt; then closes workers, connections and the metrics server.
   * Idempotent: later calls return the first call's promise.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** How often the fair queues are refilled without a job ending. */
const FAIR_TICK_MS = 1000;

/**
 * Starts a worker in this process, part by part: the metrics/health server, Redis connections,
 * one started backend per served model (and what the API must know about it), token streams,
 * webhooks, the job runner, the shard queue consumers with fair hand-off and work stealing,
 * background upkeep, and last the heartbeat that lets the API route jobs here. `main.ts` calls it
 * after parsing the environment; integration tests call it directly with a test config.
 */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const { cluster } = options;
  const logger =
    options.logger ??
    createLogger('hotpath-worker', options.logLevel ?? 'info', { worker_id: options.workerId });
  const queues = planServedQueues(cluster, options.shards);
  const metrics = createMetrics('hotpath-worker');
  const cleanups = new CleanupStack();
  const state = { backendsStarted: false, registered: false, closing: false };
  let redis: WorkerConnections | undefined;
  const readiness = (): Readiness => {
    const checks = {
      backends: state.backendsStarted,
      // Ready means the API routes jobs here: until the first heartbeat is in Redis it answers
      // 503 model_unavailable for this worker's models, yet `hotpath up` (and a rollout) would go on.
      registered: state.registered,
      redis: redis?.main.status === 'ready' && redis.subscriber.status === 'ready',
      accepting: !state.closing,
    };
    return { ready: Object.values(checks).every(Boolean), checks };
  };

  try {
    const health = await startHealthServer({
      host: options.metricsHost,
      port: options.metricsPort,
      registry: metrics.registry,
      readiness,
    });
    cleanups.push(() => health.close());

    const target = typeof options.redis === 'string' ? standaloneTarget(options.redis) : options.redis;
    redis = openWorkerConnections(target, options.workerId, logger, cleanups);
    const conn = redis.main;
    // With HOTPATH_REDIS_WAIT_REPLICAS a result is on the replicas before the job counts as done.
    const durability = durabilityOf(target);
    const store = new JobStore(conn, {
      resultTtlS: options.resultTtlS,
      ...(durability ? { durability } : {}),
    });

    const served = await startBackends(
      cluster,
      new Set(queues.map((q) => q.model)),
      options.backendFactory ?? createBackend,
      {
        logger,
        metrics,
        cpuPlacement: CpuPlacement.forHost(options.cpuPlacement ?? 'off', (line) => logger.info(line)),
      },
      cleanups,
    );
    state.backendsStarted = true;
    const models = [...served.values()].map((m) => m.config);
    await publishModelMetadata(served, conn, logger);

    const events = createJobEventStream(
      redis.events,
      options.resultTtlS,
      { flushMs: cluster.queue.event_flush_ms, flushMaxMs: eventFlushMaxMs(cluster.queue) },
      logger,
    );
    const webhooks = startWebhooks({
      connection: conn,
      store,
      settings: options.webhooks ?? DEFAULT_WEBHOOK_SETTINGS,
      logger,
    });
    cleanups.push(() => webhooks.close());
    const runner = createJobRunner(served, {
      conn,
      store,
      metrics,
      logger,
      events,
      webhooks,
      options,
      cleanups,
    });

    const fair = createFairDispatch(conn, cluster, models, logger, metrics, queues);
    cleanups.push(() => fair.closeProducer());
    await new CancelListener(redis.subscriber, runner, logger).start();
    if (fair.fairShards > 0) await listenForFairWaiting(redis.subscriber, fair.dispatcher);
    const consumers = ShardConsumers.create({
      connection: conn,
      subscriber: redis.subscriber,
      cluster,
      queues,
      served,
      runner,
      dispatcher: fair.dispatcher,
      store,
      logger,
      stealIntervalMs: options.stealIntervalMs ?? 250,
    });
    // Registered after the backends (which close later) so that consumers stop before their backends do.
    cleanups.push(
      () => fair.dispatcher.close(),
      () => consumers.close(),
    );
    await consumers.ready();

    const poller = new QueueDepthPoller(
      consumers.depthQueues,
      conn,
      metrics,
      logger,
      options.queueDepthIntervalMs ?? 5000,
    );
    poller.start();
    const sweeper = new FailedJobSweeper(
      consumers.depthQueues,
      cluster.queue.failed_retention_s,
      logger,
      consumers.sweptLanes,
    );
    sweeper.start();
    consumers.startStealing();
    if (fair.fairShards > 0) fair.dispatcher.start(FAIR_TICK_MS);

    const heartbeat = new Heartbeat(
      new WorkerRegistry(conn),
      {
        workerId: options.workerId,
        version,
        activeJobs: () => runner.activeCount,
        models: servedModelBeats(served, queues),
      },
      logger,
    );
    await heartbeat.start();
    state.registered = true;
    // Registered last, so it runs first: the API stops sending before the worker stops taking.
    cleanups.push(() => heartbeat.stop());

    logger.info('worker started', {
      queues: queues.map((q) => q.name),
      models: models.map((m) => ({ model: m.name, backend: m.backend, concurrency: m.concurrency })),
      metrics_port: health.port,
    });

    let closing: Promise<void> | undefined;
    const close = (closeOptions?: { graceMs?: number }): Promise<void> =>
      (closing ??= (() => {
        state.closing = true;
        return shutDownGracefully(
          {
            leave: () => heartbeat.stop(),
            stopBackground: async () => {
              poller.stop();
              sweeper.stop();
              await consumers.stopStealing();
            },
            stopTaking: () => consumers.stopTaking(),
            runner,
            release: () => cleanups.run(),
            logger,
          },
          closeOptions?.graceMs ?? cluster.queue.shutdown_grace_ms,
        );
      })());

    return {
      workerId: options.workerId,
      metricsPort: health.port,
      queues,
      metrics,
      readiness,
      activeJobs: () => runner.activeCount,
      close,
    };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}

/** The job runner with everything a finished job feeds: result cache, streams, webhooks, tenant usage. */
function createJobRunner(
  served: ReadonlyMap<string, ServedModel>,
  deps: {
    conn: RedisClient;
    store: JobStore;
    metrics: HotpathMetrics;
    logger: Logger;
    events: JobEventPublisher;
    webhooks: WorkerWebhooks;
    options: WorkerOptions;
    cleanups: CleanupStack;
  },
): JobRunner {
  const { conn, metrics, logger } = deps;
  const tenants = deps.options.tenants ?? new TenantSettings(deps.options.cluster.tenants);
  // Summed here and written every second; what is left goes out when the worker stops (before
  // its connection closes: cleanups run last-registered first).
  const usage = new UsageStore(
    conn,
    () => tenants.current().usage_retention_s,
    Date.now,
    USAGE_FLUSH_MS,
    (err) => logger.warn('could not record tenant usage; kept for the next write', { error: err }),
  );
  deps.cleanups.push(() => usage.close());
  return new JobRunner(served, {
    store: deps.store,
    metrics,
    logger,
    cacheFiller: new CacheFiller(new ResultCache(conn), new SingleFlight(conn), logger),
    events: deps.events,
    webhooks: deps.webhooks.handOff,
    tenantUsage: new TenantUsage(usage, tenants, tenantMetrics(metrics.registry), logger),
  });
}
