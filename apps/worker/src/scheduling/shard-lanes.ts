import type { ClusterConfig } from '@hotpath/contracts';
import {
  ShardLane,
  ShardQueues,
  laneWakeChannel,
  retrySettings,
  untilReady,
  type RedisClient,
} from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import type { SweptLanes } from '../jobs/failed-job-sweeper';
import type { QueueJob } from '../jobs/job-runner';
import type { ServedQueue } from '../startup/served-queues';
import { LaneConsumer } from './lane-consumer';
import { LaneTally } from './lane-tally';
import type { ShardSlots } from './shard-slots';

/** One own shard's direct lane: its consumer and its counts. */
interface OwnLane {
  model: string;
  shard: number;
  consumer: LaneConsumer;
  tally: LaneTally;
}

/**
 * The direct lanes of a worker's own shard queues (docs/architecture.md#the-direct-lane): one
 * {@link LaneConsumer} per shard, woken by the shard's wake-up channel, sharing the shard's slots
 * with its BullMQ Worker, and moving lane jobs that leave unfinished into BullMQ.
 */
export class ShardLanes {
  private readonly lanes: OwnLane[] = [];
  private readonly lane: ShardLane;
  /** Moves lane jobs into BullMQ (retries, hand-backs, recovered leases). */
  private readonly producer: ShardQueues;

  constructor(
    connection: RedisClient,
    private readonly cluster: ClusterConfig,
    private readonly logger: Logger,
  ) {
    this.lane = new ShardLane(connection);
    this.producer = new ShardQueues(connection, (err) =>
      logger.warn('lane hand-over queue error', { error: err }),
    );
  }

  /**
   * Adds the lane of own shard queue `q`: its jobs run through `process` in the slots `slots`
   * counts for the queue (`capacity` of them); `onActive` hears how many lane jobs run.
   */
  add(
    q: ServedQueue,
    opts: {
      capacity: number;
      slots: ShardSlots;
      process: (job: QueueJob, token?: string) => Promise<unknown>;
      onActive: (active: number) => void;
    },
  ): void {
    const { cluster, logger } = this;
    const tally = new LaneTally(this.lane, q.model, q.shard, logger);
    const consumer = new LaneConsumer({
      lane: this.lane,
      queues: this.producer,
      model: q.model,
      shard: q.shard,
      capacity: opts.capacity,
      running: () => opts.slots.count(q.name),
      process: opts.slots.counted(q.name, opts.process),
      retry: retrySettings(cluster.queue),
      leaseMs: cluster.queue.lock_duration_ms,
      recoverEveryMs: cluster.queue.stalled_interval_ms,
      tally,
      logger,
      onActive: opts.onActive,
    });
    // A slot a BullMQ job frees may take a ready lane job.
    opts.slots.onFreed(q.name, () => consumer.slotFreed());
    this.lanes.push({ model: q.model, shard: q.shard, consumer, tally });
  }

  /** The lanes' failed-job lists for the sweeper: the own shards with a lane. */
  get swept(): SweptLanes {
    return { lane: this.lane, shards: this.lanes };
  }

  /** Subscribes to the lanes' wake-ups and starts taking. */
  async start(subscriber: RedisClient): Promise<void> {
    if (this.lanes.length === 0) return;
    const byChannel = new Map(this.lanes.map((l) => [laneWakeChannel(l.model, l.shard), l.consumer]));
    subscriber.on('message', (channel: string) => byChannel.get(channel)?.wake());
    // Wake-ups published while the subscriber was away are lost: look at every lane after a reconnect.
    subscriber.on('ready', () => this.lanes.forEach((l) => l.consumer.wake()));
    await untilReady(subscriber);
    await subscriber.subscribe(...byChannel.keys());
    for (const l of this.lanes) {
      l.tally.start();
      l.consumer.start();
    }
  }

  /** Stops taking; resolves when the lane jobs running here have settled. */
  async stopTaking(): Promise<void> {
    await Promise.allSettled(this.lanes.map((l) => l.consumer.stopTaking()));
  }

  /** Stops the lanes' timers, writes their last counts and closes the hand-over producer. */
  async close(): Promise<void> {
    this.lanes.forEach((l) => l.consumer.close());
    await Promise.allSettled(this.lanes.map((l) => l.tally.close()));
    await this.producer.close();
  }
}
