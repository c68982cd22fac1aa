import { Queue, Worker } from 'bullmq';
import { ErrorCode, shardQueueName, shardQueueRef, type ClusterConfig } from '@hotpath/contracts';
import { countsAsRunning, type FairDispatcher, type JobStore, type RedisClient } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import type { JobRunner, ServedModel } from '../jobs/job-runner';
import { createShardProcessor } from '../jobs/shard-processor';
import type { ServedQueue } from '../startup/served-queues';
import { settlesWithin } from '../startup/settles-within';
import type { DepthQueue } from '../telemetry/queue-depth-poller';
import type { SweptLanes } from '../jobs/failed-job-sweeper';
import { batchCapacityWarning } from './batch-capacity';
import { ShardLanes } from './shard-lanes';
import { ShardSlots } from './shard-slots';
import { withFairHandOff } from './fair-hand-off';
import { WorkStealer, thiefConcurrency } from './work-stealer';

/** Minutes of BullMQ per-minute job metrics kept per shard queue. */
const WORKER_METRICS_MINUTES = 60;

/** What {@link ShardConsumers.create} needs. */
export interface ShardConsumersDeps {
  connection: RedisClient;
  /** Hears the lanes' wake-ups. */
  subscriber: RedisClient;
  cluster: ClusterConfig;
  queues: readonly ServedQueue[];
  served: ReadonlyMap<string, ServedModel>;
  runner: JobRunner;
  dispatcher: FairDispatcher;
  store: JobStore;
  logger: Logger;
  /** How often work stealing re-checks the own shards' backlog. */
  stealIntervalMs: number;
}

interface ShardWorkerOptions {
  concurrency: number;
  /** A work-stealing Worker on another shard's queue: starts paused, its jobs are not counted as own. */
  thief: boolean;
}

type ShardProcessor = ReturnType<typeof createShardProcessor>;

/**
 * The queue side of a worker: one BullMQ Worker per served shard queue (running jobs through the
 * job runner, fair hand-off included) and, with `queue.direct_lane` on, the consumer of the shard's
 * direct lane sharing its slots, a Queue handle per shard for depth metrics and sweeping, and, for
 * models with `steal` on, the paused thief Workers on the model's other shards with the
 * {@link WorkStealer} that resumes them.
 */
export class ShardConsumers {
  private constructor(
    /** Own and thief Workers: shutdown closes them all. */
    private readonly workers: readonly Worker[],
    readonly depthQueues: readonly DepthQueue[],
    private readonly stealers: readonly WorkStealer[],
    /** The own shards' direct lanes (none with `queue.direct_lane` off). */
    private readonly lanes: ShardLanes,
    private readonly subscriber: RedisClient,
  ) {}

  static create(deps: ShardConsumersDeps): ShardConsumers {
    const { queues, served, logger } = deps;
    const maxStalledCount = stalledCount(deps.cluster, logger);
    // Jobs of each model taken from this worker's own shards and running now (work stealing reads it).
    const ownInFlight = new Map<string, number>();
    const ownWorkers = new Map<string, Worker[]>();
    const slots = new ShardSlots();
    const lanes = new ShardLanes(deps.connection, deps.cluster, logger);
    const workers: Worker[] = [];
    const depthQueues: DepthQueue[] = [];
    const shardWorker = (q: ServedQueue, opts: ShardWorkerOptions): Worker =>
      createShardWorker(deps, q, opts, maxStalledCount, ownInFlight, slots);
    for (const q of queues) {
      const model = served.get(q.model);
      if (!model) continue;
      const worker = shardWorker(q, { concurrency: model.config.concurrency, thief: false });
      workers.push(worker);
      ownWorkers.set(q.model, [...(ownWorkers.get(q.model) ?? []), worker]);
      const ref = shardQueueRef(q.model, q.shard);
      const queue = new Queue(ref.name, { connection: deps.connection, prefix: ref.prefix });
      queue.on('error', (err) => logger.warn('queue error', { queue: q.name, error: err }));
      depthQueues.push({ model: q.model, shard: q.shard, queue });
      if (deps.cluster.queue.direct_lane) {
        const capacity = model.config.concurrency;
        // One set of slots for both: BullMQ fetches only into the slots lane jobs leave (at least one,
        // BullMQ's minimum, so a worker may run one job over its concurrency for a moment).
        lanes.add(q, {
          capacity,
          slots,
          process: counted(shardProcessor(deps, q), ownInFlight, q.model),
          onActive: (active) => {
            worker.concurrency = Math.max(1, capacity - active);
          },
        });
      }
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
      intervalMs: deps.stealIntervalMs,
    });
    return new ShardConsumers(workers, depthQueues, stealers, lanes, deps.subscriber);
  }

  /** Resolves once every Worker is connected and the lanes listen. */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    await this.lanes.start(this.subscriber);
  }

  /** The own shards' direct lanes, for the failed-job sweep. */
  get sweptLanes(): SweptLanes {
    return this.lanes.swept;
  }

  startStealing(): void {
    this.stealers.forEach((s) => s.start());
  }

  async stopStealing(): Promise<void> {
    await Promise.allSettled(this.stealers.map((s) => s.stop()));
  }

  /** Stops fetching at once; resolves when the running jobs have settled (however long that takes). */
  async stopTaking(): Promise<void> {
    await Promise.allSettled([...this.workers.map((w) => w.close()), this.lanes.stopTaking()]);
  }

  /** Closes queue handles and Workers (forced); bounded, so a stuck job cannot hold the process. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.depthQueues.map((d) => d.queue.close()), this.lanes.close()]);
    // After a clean shutdown this resolves at once.
    await settlesWithin(Promise.allSettled(this.workers.map((w) => w.close(true))), 2000);
  }
}

function createShardWorker(
  deps: ShardConsumersDeps,
  q: ServedQueue,
  opts: ShardWorkerOptions,
  maxStalledCount: number,
  ownInFlight: Map<string, number>,
  slots: ShardSlots,
): Worker {
  const { cluster, dispatcher, logger } = deps;
  // BullMQ refuses ":" in queue names; the ref splits `hp:{model:shard}` into a legal prefix and name.
  const ref = shardQueueRef(q.model, q.shard);
  const processor = shardProcessor(deps, q);
  const worker = new Worker(
    ref.name,
    opts.thief ? processor : slots.counted(q.name, counted(processor, ownInFlight, q.model)),
    {
      connection: deps.connection,
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
    },
  );
  worker.on('error', (err) => logger.warn('queue worker error', { queue: q.name, error: err }));
  // BullMQ fails a job that stalled more than maxStalledCount times (its workers kept dying) without
  // calling the processor; the record must still end, or clients would wait until its TTL.
  worker.on('failed', (job, err) => {
    if (!job?.id || !/stalled/i.test(err.message)) return;
    logger.error('job failed after repeated stalls', { queue: q.name, job_id: job.id });
    const tenant = (job.data as { tenant?: unknown } | undefined)?.tenant;
    if (typeof tenant === 'string' && countsAsRunning(job.data))
      dispatcher.finished(q.model, q.shard, tenant);
    deps.store
      .fail(job.id, {
        code: ErrorCode.InferenceFailed,
        message: 'job stalled too many times: its workers kept dying',
      })
      .catch((e: unknown) => logger.warn('could not record stalled failure', { job_id: job.id, error: e }));
  });
  return worker;
}

/** The processor of a shard queue's jobs (BullMQ's or the lane's): spans, job runner, fair hand-off. */
function shardProcessor(deps: ShardConsumersDeps, q: ServedQueue): ShardProcessor {
  return withFairHandOff(
    createShardProcessor(deps.runner, q.model, q.shard),
    deps.dispatcher,
    q.model,
    q.shard,
  );
}

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

/** A stalled job (its worker died) must be allowed to run again, so at least one stall is tolerated. */
function stalledCount(cluster: ClusterConfig, logger: Logger): number {
  const configured = cluster.queue.max_stalled_count;
  if (configured >= 1) return configured;
  logger.warn('queue.max_stalled_count 0 would fail the jobs of a crashed worker; using 1');
  return 1;
}
