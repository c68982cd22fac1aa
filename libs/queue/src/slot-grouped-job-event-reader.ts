import { shardQueueName } from '@hotpath/contracts';
import {
  JobEventReader,
  type JobEventFeed,
  type JobEventListener,
  type JobEventReaderOptions,
  type JobEventSubscription,
} from './job-event-reader';
import type { JobStreamRef } from './job-event-stream';
import type { RedisClient } from './redis-connection';

/** Longest XREAD BLOCK on a cluster, where new subscriptions cannot interrupt it (see below). */
export const CLUSTER_READ_BLOCK_MS = 200;

/**
 * The job event feed on Redis Cluster: one {@link JobEventReader} per shard with followed jobs (a
 * shard's streams share its hash tag, so one `XREAD` reads them all), each on its own blocking
 * connection, opened on first use and kept (their number is bounded by the shard count). Without
 * `CLIENT UNBLOCK` (which cannot be aimed at a node through a cluster client) the reads block at
 * most {@link CLUSTER_READ_BLOCK_MS}: a new follower of a shard that already has one waits at most
 * that long for its first read.
 */
export class SlotGroupedJobEventReader implements JobEventFeed {
  private readonly readers = new Map<string, { reader: JobEventReader; connection: RedisClient }>();
  private closed = false;

  constructor(
    private readonly connect: () => RedisClient,
    private readonly control: RedisClient,
    private readonly options: JobEventReaderOptions = {},
  ) {}

  get size(): number {
    let n = 0;
    for (const r of this.readers.values()) n += r.reader.size;
    return n;
  }

  subscribe(job: JobStreamRef, fromId: string, listener: JobEventListener): JobEventSubscription {
    if (this.closed) throw new Error('JobEventReader is closed');
    const group = shardQueueName(job.model, job.shard);
    let entry = this.readers.get(group);
    if (!entry) {
      const connection = this.connect();
      const reader = new JobEventReader(connection, this.control, {
        ...this.options,
        unblock: false,
        blockMs: Math.min(this.options.blockMs ?? CLUSTER_READ_BLOCK_MS, CLUSTER_READ_BLOCK_MS),
      });
      entry = { reader, connection };
      this.readers.set(group, entry);
    }
    return entry.reader.subscribe(job, fromId, listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.readers.values()];
    this.readers.clear();
    await Promise.all(
      all.map(async ({ reader, connection }) => {
        const closing = reader.close();
        connection.disconnect();
        await closing;
      }),
    );
  }
}
