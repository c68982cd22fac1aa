import { Queue, Worker } from 'bullmq';
import {
  ErrorCode,
  HotpathError,
  shardQueueName,
  shardQueueRef,
  type ClusterConfig,
  type ModelConfig,
} from '@hotpath/contracts';
import {
  FairDispatcher,
  FairQueue,
  JobStore,
  ShardQueues,
  USAGE_FLUSH_MS,
  UsageStore,
  WorkerRegistry,
  countsAsRunning,
  createRedisConnection,
  durabilityOf,
  shardsServed,
  standaloneTarget,
  type RedisClient,
  type RedisTarget,
  type ShardSelection,
} from '@hotpath/queue';
import { TenantSettings } from '@hotpath/config';
import { ModelDigests, ResultCache, SingleFlight } from '@hotpath/cache';
import {
  createLogger,
  createMetrics,
  type HotpathMetrics,
  type LogLevel,
  type Logger,
  tenantMetrics,
} from '@hotpath/telemetry';
import { createBackend, type BackendFactory } from './backends/backend-factory';
import { startHealthServer, type HealthServer, type Readiness } from './http/health.server';
import { CacheFiller } from './jobs/cache-filler';
import { CancelListener } from './jobs/cancel-listener';
import { JobRunner, type ServedModel } from './jobs/job-runner.service';
import { startStreamingAndWebhooks } from './webhooks/streaming-and-webhooks';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from './webhooks/webhook-settings';
import { createShardProcessor } from './jobs/shard.processor';
import { QueueDepthPoller, type DepthQueue } from './telemetry/queue-depth.poller';
import { FailedJobSweeper } from './jobs/failed-job-sweeper';
import { batchCapacityWarning } from './scheduling/batch-capacity';
import { WorkStealer, thiefConcurrency } from './scheduling/work-stealer';
import { addFairShards, withFairHandOff } from './scheduling/fair-hand-off';
import { TenantUsage } from './jobs/tenant-usage';
import { Heartbeat } from './heartbeat/heartbeat';
import { servedModelInfo } from './heartbeat/served-model-info';
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
  /** How often the fair queues are refilled without a job ending; default 1000 ms. */
  fairTickMs?: number;
}

/** A served shard queue. */
export interface ServedQueue {
  model: string;
  shard: number;
  /** The shard queue's logical name (docs/architecture.md#redis-keys), `{model:shard}`; its Redis keys are `hp:{model:shard}:*`. */
  name: string;
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

/** Minutes of BullMQ per-minute job metrics kept per shard queue. */
const WORKER_METRICS_MINUTES = 60;

/** How long handed-back jobs get to settle after their abort before connections are closed anyway. */
const HAND_BACK_TIMEOUT_MS = 10_000;

/** The shard queues a selection serves, model by model. Throws when the selection is unusable. */
export function planServedQueues(cluster: ClusterConfig, shards: ShardSelection | 'all'): ServedQueue[] {
  if (shards !== 'all') {
    for (const name of shards.keys()) {
      if (!cluster.models.some((m) => m.name === name)) {
        throw new HotpathError(
          ErrorCode.InvalidConfig,
          `WORKER_SHARDS names unknown model "${name}"`,
          'WORKER_SHARDS',
        );
      }
    }
  }
  const queues = cluster.models.flatMap((m) =>
    shardsServed(shards, m.name, m.shards).map((shard) => ({
      model: m.name,
      shard,
      name: shardQueueName(m.name, shard),
    })),
  );
  if (queues.length === 0) {
    throw new HotpathError(ErrorCode.InvalidConfig, 'WORKER_SHARDS selects no shard queue', 'WORKER_SHARDS');
  }
  return queues;
}

/**
 * Starts a worker in this process: the metrics/health server, one started backend per served
 * model, and one BullMQ `Worker` per served shard queue. `main.ts` calls it after parsing the
 * environment; integration tests call it directly with a test config.
 */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const { cluster } = options;
  const logger =
    options.logger ??
    createLogger('hotpath-worker', options.logLevel ?? 'info', { worker_id: options.workerId });
  const queues = planServedQueues(cluster, options.shards);
  const metrics = createMetrics('hotpath-worker');
  const cleanups: (() => Promise<unknown>)[] = [];
  const state = { backendsStarted: false, closing: false };

  let connection: RedisClient | undefined;
  let subscriber: RedisClient | undefined;
  const readiness = (): Readiness => {
    const checks = {
      backends: state.backendsStarted,
      redis: connection?.status === 'ready' && subscriber?.status === 'ready',
      accepting: !state.closing,
    };
    return { ready: Object.values(checks).every(Boolean), checks };
  };

  const cleanup = async (): Promise<void> => {
    for (const fn of [...cleanups].reverse()) await fn().catch(() => undefined);
    cleanups.length = 0;
  };

  let health: HealthServer;
  try {
    health = await startHealthServer({
      host: options.metricsHost,
      port: options.metricsPort,
      registry: metrics.registry,
      readiness,
    });
    cleanups.push(() => health.close());

    const target = typeof options.redis === 'string' ? standaloneTarget(options.redis) : options.redis;
    const conn = createRedisConnection(target, 'worker', `hotpath-worker:${options.workerId}`);
    const sub = createRedisConnection(target, 'subscriber', `hotpath-worker-sub:${options.workerId}`);
    // Token streams get a connection of their own (see startStreamingAndWebhooks).
    const eventsConn = createRedisConnection(target, 'worker', `hotpath-worker-events:${options.workerId}`);
    connection = conn;
    subscriber = sub;
    onRedisErrors(conn, logger, 'worker');
    onRedisErrors(sub, logger, 'subscriber');
    onRedisErrors(eventsConn, logger, 'events');
    cleanups.push(
      () => closeRedis(conn),
      () => closeRedis(sub),
      () => closeRedis(eventsConn),
    );

    // With HOTPATH_REDIS_WAIT_REPLICAS a result is on the replicas before the job counts as done.
    const durability = durabilityOf(target);
    const store = new JobStore(conn, {
      resultTtlS: options.resultTtlS,
      ...(durability ? { durability } : {}),
    });
    const served = await startBackends(
      cluster,
      queues,
      options.backendFactory ?? createBackend,
      logger,
      cleanups,
      metrics,
    );
    state.backendsStarted = true;

    // Cache keys carry the model version: publish what this worker serves, so the API keys by it.
    const digests = new ModelDigests(conn);
    for (const m of served.values())
      if (m.backend.digest) await digests.publish(m.config.name, m.backend.digest);
    const cacheFiller = new CacheFiller(new ResultCache(conn), new SingleFlight(conn), logger);
    // --- Token streams, chat templates and webhooks (SSE, OpenAI streams, webhooks) ---
    const streaming = await startStreamingAndWebhooks({
      connection: conn,
      eventsConnection: eventsConn,
      store,
      models: [...served.values()].map((m) => m.config),
      resultTtlS: options.resultTtlS,
      webhooks: options.webhooks ?? DEFAULT_WEBHOOK_SETTINGS,
      logger,
    });
    cleanups.push(() => streaming.close());
    // --- end of streams and webhooks ---
    const tenants = options.tenants ?? new TenantSettings(cluster.tenants);
    // Summed here and written every second; what is left goes out when the worker stops.
    const usage = new UsageStore(
      conn,
      () => tenants.current().usage_retention_s,
      Date.now,
      USAGE_FLUSH_MS,
      (err) => logger.warn('could not record tenant usage; kept for the next write', { error: err }),
    );
    cleanups.push(() => usage.close());
    const runner = new JobRunner(served, {
      store,
      metrics,
      logger,
      cacheFiller,
      events: streaming.events,
      webhooks: streaming.webhooks,
      tenantUsage: new TenantUsage(usage, tenants, tenantMetrics(metrics.registry), logger),
    });
    // Fair queuing: jobs that end here let the next jobs in fair order into BullMQ.
    const fairProducer = new ShardQueues(conn, (err) =>
      logger.warn('fair hand-off queue error', { error: err }),
    );
    const dispatcher = new FairDispatcher(
      new FairQueue(conn),
      fairProducer,
      {
        attempts: cluster.queue.attempts,
        backoff_ms: cluster.queue.backoff_ms,
        failed_retention_s: cluster.queue.failed_retention_s,
      },
      (err, target) =>
        logger.warn('fair queue hand-off failed', { model: target.model, shard: target.shard, error: err }),
    );
    const fairShards = addFairShards(
      dispatcher,
      [...served.values()].map((m) => m.config),
    );
    cleanups.push(() => fairProducer.close());
    await new CancelListener(sub, runner, logger).start();

    const maxStalledCount = stalledCount(cluster, logger);
    const workers: Worker[] = [];
    const depthQueues: DepthQueue[] = [];
    // Jobs of each model taken from this worker's own shards and running now (work stealing reads it).
    const ownInFlight = new Map<string, number>();
    const ownWorkers = new Map<string, Worker[]>();
    const shardWorker = (q: ServedQueue, opts: ShardWorkerOptions): Worker => {
      // BullMQ refuses ":" in queue names; the ref splits `hp:{model:shard}` into a legal prefix and name.
      const ref = shardQueueRef(q.model, q.shard);
      const processor = withFairHandOff(
        createShardProcessor(runner, q.model, q.shard),
        dispatcher,
        q.model,
        q.shard,
      );
      const worker = new Worker(ref.name, opts.thief ? processor : counted(processor, ownInFlight, q.model), {
        connection: conn,
        prefix: ref.prefix,
        concurrency: opts.concurrency,
        lockDuration: cluster.queue.lock_duration_ms,
        stalledInterval: cluster.queue.stalled_interval_ms,
        maxStalledCount,
        // Per-minute completed/failed counts in Redis: the queue dashboard's throughput.
        metrics: { maxDataPoints: WORKER_METRICS_MINUTES },
        // Thieves start paused; a short drain delay keeps one blocked on an empty queue pausable.
        autorun: !opts.thief,
        ...(opts.thief ? { drainDelay: 1 } : {}),
      });
      worker.on('error', (err) => logger.warn('queue worker error', { queue: q.name, error: err }));
      // BullMQ fails a job that stalled more than maxStalledCount times (its workers kept dying) without
      // calling the processor; the record must still end, or clients would wait until its TTL.
      worker.on('failed', (job, err) => {
        if (!job?.id || !/stalled/i.test(err.message)) return;
        logger.error('job failed after repeated stalls', { queue: q.name, job_id: job.id });
        const tenant = (job.data as { tenant?: unknown } | undefined)?.tenant;
        if (typeof tenant === 'string' && countsAsRunning(job.data))
          dispatcher.finished(q.model, q.shard, tenant);
        store
          .fail(job.id, {
            code: ErrorCode.InferenceFailed,
            message: 'job stalled too many times: its workers kept dying',
          })
          .catch((e: unknown) =>
            logger.warn('could not record stalled failure', { job_id: job.id, error: e }),
          );
      });
      return worker;
    };
    for (const q of queues) {
      const model = served.get(q.model);
      if (!model) continue;
      const worker = shardWorker(q, { concurrency: model.config.concurrency, thief: false });
      workers.push(worker);
      ownWorkers.set(q.model, [...(ownWorkers.get(q.model) ?? []), worker]);
      const ref = shardQueueRef(q.model, q.shard);
      const queue = new Queue(ref.name, { connection: conn, prefix: ref.prefix });
      queue.on('error', (err) => logger.warn('queue error', { queue: q.name, error: err }));
      depthQueues.push({ model: q.model, shard: q.shard, queue });
    }
    for (const m of served.values()) {
      const warning = batchCapacityWarning(m.config, queues.filter((q) => q.model === m.config.name).length);
      if (warning) logger.warn(warning);
    }
    const stealers = createStealers(queues, served, {
      createThief: (q, concurrency) => shardWorker(q, { concurrency, thief: true }),
      depthQueues,
      ownWorkers,
      ownInFlight,
      workers,
      logger,
      intervalMs: options.stealIntervalMs ?? 250,
    });
    // Registered after the backends (which close later) so that workers stop before their backends do.
    cleanups.push(() => dispatcher.close());
    cleanups.push(
      // Bounded: after a clean shutdown this resolves at once; a stuck job must not hold the process.
      () => settlesWithin(Promise.allSettled(workers.map((w) => w.close(true))), 2000),
      () => Promise.allSettled(depthQueues.map((d) => d.queue.close())),
    );
    await Promise.all(workers.map((w) => w.waitUntilReady()));

    const poller = new QueueDepthPoller(depthQueues, metrics, logger, options.queueDepthIntervalMs ?? 5000);
    poller.start();
    const sweeper = new FailedJobSweeper(depthQueues, cluster.queue.failed_retention_s, logger);
    sweeper.start();
    stealers.forEach((s) => s.start());
    if (fairShards > 0) dispatcher.start(options.fairTickMs ?? 1000);
    const heartbeat = new Heartbeat(
      new WorkerRegistry(conn),
      {
        workerId: options.workerId,
        version,
        activeJobs: () => runner.activeCount,
        models: [...served.values()].map((m) => ({
          model: m.config.name,
          backend: m.config.backend,
          shards: queues.filter((q) => q.model === m.config.name).map((q) => q.shard),
          steals: m.config.steal,
          ...servedModelInfo(m.config),
        })),
      },
      logger,
    );
    await heartbeat.start();
    // Registered last, so it runs first: the API stops sending before the worker stops taking.
    cleanups.push(() => heartbeat.stop());

    logger.info('worker started', {
      queues: queues.map((q) => q.name),
      models: [...served.values()].map((m) => ({
        model: m.config.name,
        backend: m.config.backend,
        concurrency: m.config.concurrency,
      })),
      metrics_port: health.port,
    });

    let closing: Promise<void> | undefined;
    const close = (closeOptions?: { graceMs?: number }): Promise<void> =>
      (closing ??= (async () => {
        state.closing = true;
        await heartbeat.stop();
        poller.stop();
        sweeper.stop();
        await Promise.allSettled(stealers.map((s) => s.stop()));
        const graceMs = closeOptions?.graceMs ?? cluster.queue.shutdown_grace_ms;
        // close() without force stops fetching at once and resolves when running jobs have settled.
        const workersClosed = Promise.allSettled(workers.map((w) => w.close()));
        logger.info('shutting down', { running_jobs: runner.activeCount, grace_ms: graceMs });
        if (!(await settlesWithin(workersClosed, graceMs))) {
          logger.warn('grace period over; handing running jobs back', { running_jobs: runner.activeCount });
          runner.handBackAll();
          if (!(await settlesWithin(workersClosed, HAND_BACK_TIMEOUT_MS))) {
            logger.error(
              'jobs did not settle after their abort; their locks will expire and they will rerun',
              {
                running_jobs: runner.activeCount,
              },
            );
          }
        }
        await cleanup();
        logger.info('worker stopped');
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
    await cleanup();
    throw err;
  }
}

interface ShardWorkerOptions {
  concurrency: number;
  /** A work-stealing Worker on another shard's queue: starts paused, its jobs are not counted as own. */
  thief: boolean;
}

type ShardProcessor = ReturnType<typeof createShardProcessor>;

/** Wraps a processor to count the model's own running jobs. */
function counted(processor: ShardProcessor, inFlight: Map<string, number>, model: string): ShardProcessor {
  return async (job, token) => {
    inFlight.set(model, (inFlight.get(model) ?? 0) + 1);
    try {
      return await processor(job, token);
    } finally {
      inFlight.set(model, (inFlight.get(model) ?? 1) - 1);
    }
  };
}

/**
 * One {@link WorkStealer} per served model that has `steal` on and shards this worker does not
 * serve: creates its paused thief Workers (added to `workers`, so shutdown closes them like the
 * others) and nudges it whenever an own Worker finds its queue drained.
 */
function createStealers(
  queues: readonly ServedQueue[],
  served: ReadonlyMap<string, ServedModel>,
  ctx: {
    createThief: (q: ServedQueue, concurrency: number) => Worker;
    depthQueues: readonly DepthQueue[];
    ownWorkers: ReadonlyMap<string, Worker[]>;
    ownInFlight: ReadonlyMap<string, number>;
    workers: Worker[];
    logger: Logger;
    intervalMs: number;
  },
): WorkStealer[] {
  const stealers: WorkStealer[] = [];
  for (const m of served.values()) {
    const { name, shards, concurrency, steal } = m.config;
    const own = new Set(queues.filter((q) => q.model === name).map((q) => q.shard));
    const others = Array.from({ length: shards }, (_, s) => s).filter((s) => !own.has(s));
    if (!steal || others.length === 0) continue;
    const perThief = thiefConcurrency(concurrency, others.length);
    const thieves = others.map((shard) =>
      ctx.createThief({ model: name, shard, name: shardQueueName(name, shard) }, perThief),
    );
    ctx.workers.push(...thieves);
    const stealer = new WorkStealer({
      model: name,
      ownQueues: ctx.depthQueues.filter((d) => d.model === name).map((d) => d.queue),
      thieves,
      ownInFlight: () => ctx.ownInFlight.get(name) ?? 0,
      ownCapacity: concurrency * own.size,
      intervalMs: ctx.intervalMs,
      logger: ctx.logger,
    });
    for (const w of ctx.ownWorkers.get(name) ?? []) w.on('drained', () => stealer.nudge());
    ctx.logger.info('work stealing enabled', {
      model: name,
      from_shards: others,
      thief_concurrency: perThief,
    });
    stealers.push(stealer);
  }
  return stealers;
}

async function startBackends(
  cluster: ClusterConfig,
  queues: readonly ServedQueue[],
  factory: BackendFactory,
  logger: Logger,
  cleanups: (() => Promise<unknown>)[],
  metrics: HotpathMetrics,
): Promise<Map<string, ServedModel>> {
  const servedNames = new Set(queues.map((q) => q.model));
  const models: ModelConfig[] = cluster.models.filter((m) => servedNames.has(m.name));
  const served = new Map<string, ServedModel>();
  for (const config of models) {
    const backend = factory(config, { logger: logger.child({ model: config.name }), metrics });
    cleanups.push(() => backend.close());
    await backend.start();
    served.set(config.name, { config, backend });
  }
  return served;
}

/** A stalled job (its worker died) must be allowed to run again, so at least one stall is tolerated. */
function stalledCount(cluster: ClusterConfig, logger: Logger): number {
  const configured = cluster.queue.max_stalled_count;
  if (configured >= 1) return configured;
  logger.warn('queue.max_stalled_count 0 would fail the jobs of a crashed worker; using 1');
  return 1;
}

function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** ioredis emits an `error` per failed reconnect; log the first of a burst, not every retry. */
function onRedisErrors(conn: RedisClient, logger: Logger, role: string): void {
  let last = 0;
  conn.on('error', (err: Error) => {
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    logger.warn('redis connection error', { role, error: err });
  });
}

async function closeRedis(conn: RedisClient): Promise<void> {
  if (conn.status === 'end') return;
  if (conn.status !== 'ready') {
    conn.disconnect();
    return;
  }
  if (!(await settlesWithin(conn.quit(), 2000))) conn.disconnect();
}
