import { DelayedError, UnrecoverableError } from 'bullmq';
import {
  fairLookahead,
  maxFairLookahead,
  shardQueueName,
  type ClusterConfig,
  type ModelConfig,
} from '@hotpath/contracts';
import {
  FAIR_WAITING_CHANNEL,
  FairDispatcher,
  FairQueue,
  ShardLane,
  ShardQueues,
  countsAsRunning,
  parseFairChannelMessage,
  retrySettings,
  untilReady,
  type RedisClient,
} from '@hotpath/queue';
import type { HotpathMetrics, Logger } from '@hotpath/telemetry';
import { isLastAttempt } from '../jobs/job-decisions';
import type { QueueJob } from '../jobs/job-runner';

type Processor<R> = (job: QueueJob, token?: string) => Promise<R>;

/**
 * Whether a processor's error ends the job for good. A handed-back job (DelayedError) and a failed
 * attempt BullMQ will retry stay in the queue: their place is still taken.
 */
export function endsJob(err: unknown, job: QueueJob): boolean {
  if (err instanceof DelayedError) return false;
  if (err instanceof UnrecoverableError) return true;
  return isLastAttempt(job.attemptsMade, job.opts.attempts);
}

/**
 * Wraps a shard processor so that a job taken from BullMQ lets the next job in fair order in (its
 * lookahead place is free), and a job that ends for good also frees its tenant's running place.
 */
export function withFairHandOff<R>(
  processor: Processor<R>,
  dispatcher: FairDispatcher,
  model: string,
  shard: number,
): Processor<R> {
  return async (job, token) => {
    const raw = (job.data as { tenant?: unknown } | undefined)?.tenant;
    const tenant = typeof raw === 'string' ? raw : undefined;
    dispatcher.started(model, shard, tenant);
    let ended = true;
    try {
      const result = await processor(job, token);
      // The result is out: the slot may wait a moment for the tenant's next job (anticipation).
      if (tenant !== undefined) await dispatcher.anticipate(model, shard, tenant);
      return result;
    } catch (err) {
      ended = endsJob(err, job);
      throw err;
    } finally {
      // A job its tenant's running count never included releases no running place.
      const counted = ended && tenant !== undefined && countsAsRunning(job.data);
      dispatcher.settled(model, shard, counted ? tenant : undefined, tenant);
    }
  };
}

/**
 * Registers every shard of the models with fairness on that this worker serves or may steal from;
 * the shard queues named in `laneShards` (its own, with the direct lane on) hand out into the lane.
 */
export function addFairShards(
  dispatcher: FairDispatcher,
  models: readonly ModelConfig[],
  laneShards: ReadonlySet<string> = new Set(),
): number {
  let n = 0;
  for (const m of models) {
    if (!m.fairness.enabled) continue;
    for (let shard = 0; shard < m.shards; shard++) {
      dispatcher.add({
        model: m.name,
        shard,
        lookahead: fairLookahead(m),
        maxLookahead: maxFairLookahead(m),
        capacity: m.concurrency,
        anticipateMs: m.fairness.anticipate_ms,
        lane: laneShards.has(shardQueueName(m.name, shard)),
      });
      n++;
    }
  }
  return n;
}

/** The fair-queue dispatcher of a worker and the producer it moves jobs into BullMQ with. */
export interface FairDispatch {
  dispatcher: FairDispatcher;
  /** How many shards it dispatches for (0: no served model has fairness on). */
  fairShards: number;
  /** Closes the producer; the dispatcher itself is closed by its owner, after the consumers. */
  closeProducer(): Promise<void>;
}

/**
 * Fair queuing, the worker's side: jobs that end here let the next jobs in fair order into BullMQ
 * (docs/tenancy.md). Not started yet: see {@link FairDispatcher.start}.
 */
export function createFairDispatch(
  connection: RedisClient,
  cluster: ClusterConfig,
  models: readonly ModelConfig[],
  logger: Logger,
  metrics: Pick<HotpathMetrics, 'fairHolds'>,
  /** The shard queues this worker serves as its own. */
  ownQueues: readonly { name: string }[] = [],
): FairDispatch {
  const producer = new ShardQueues(connection, (err) =>
    logger.warn('fair hand-off queue error', { error: err }),
  );
  const dispatcher = new FairDispatcher(
    new FairQueue(connection),
    producer,
    retrySettings(cluster.queue),
    (err, target) =>
      logger.warn('fair queue hand-off failed', { model: target.model, shard: target.shard, error: err }),
    (target, outcome) => metrics.fairHolds.inc({ model: target.model, outcome }),
    new ShardLane(connection),
  );
  const laneShards = new Set(cluster.queue.direct_lane ? ownQueues.map((q) => q.name) : []);
  return {
    dispatcher,
    fairShards: addFairShards(dispatcher, models, laneShards),
    closeProducer: () => producer.close(),
  };
}

/**
 * Subscribes `subscriber` to {@link FAIR_WAITING_CHANNEL}: when jobs start to wait in a shard's
 * empty fair queue, the dispatcher runs a round for it at once (a job's end does not while nothing
 * waits); when a tenant's job took a slot held for it, the slot stops waiting. Messages lost while
 * disconnected cost at most the dispatcher's tick, or a hold's length.
 */
export async function listenForFairWaiting(
  subscriber: RedisClient,
  dispatcher: FairDispatcher,
): Promise<void> {
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== FAIR_WAITING_CHANNEL) return;
    const m = parseFairChannelMessage(message);
    if (m?.kind === 'waiting') dispatcher.waiting(m.model, m.shard);
    else if (m?.kind === 'held') dispatcher.heldTaken(m.model, m.shard, m.tenant);
  });
  await untilReady(subscriber);
  await subscriber.subscribe(FAIR_WAITING_CHANNEL);
}
