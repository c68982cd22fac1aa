import { jobRecordKey, ShardQueues, type RedisClient } from '@hotpath/queue';

/** Removes what a test left in the shared Redis: its models' queues and its job records. */
export async function cleanupRedis(
  conn: RedisClient,
  models: readonly { name: string; shards: number }[],
  jobIds: Iterable<string>,
): Promise<void> {
  const queues = new ShardQueues(conn);
  try {
    for (const m of models) {
      for (let s = 0; s < m.shards; s++) await queues.queue(m.name, s).obliterate({ force: true });
    }
    const keys = [...jobIds].map(jobRecordKey);
    if (keys.length > 0) await conn.del(...keys);
  } finally {
    await queues.close();
  }
}
