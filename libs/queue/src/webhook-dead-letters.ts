import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-connection';
import { parseWebhookDelivery, type WebhookDelivery } from './webhook-queue';

const DEAD_HASH = 'hp:{webhooks}:dead';
const DEAD_INDEX = 'hp:{webhooks}:dead:index';

/** A delivery that failed its last attempt, kept for an operator to inspect and replay. */
export interface DeadLetter {
  id: string;
  delivery: WebhookDelivery;
  attempts: number;
  /** HTTP status of the last attempt, `null` when it got no answer (refused, timed out). */
  last_status: number | null;
  last_error: string;
  failed_at: number;
}

/** What the admin routes show of a dead letter: everything but the secret. */
export interface DeadLetterView {
  id: string;
  webhook_id: string;
  job_id: string;
  url: string;
  attempts: number;
  last_status: number | null;
  last_error: string;
  created_at: string;
  failed_at: string;
}

export function deadLetterView(d: DeadLetter): DeadLetterView {
  return {
    id: d.id,
    webhook_id: d.delivery.webhook_id,
    job_id: d.delivery.job_id,
    url: d.delivery.url,
    attempts: d.attempts,
    last_status: d.last_status,
    last_error: d.last_error,
    created_at: new Date(d.delivery.created_at).toISOString(),
    failed_at: new Date(d.failed_at).toISOString(),
  };
}

/**
 * Dead-lettered webhook deliveries: a hash of records (`hp:{webhooks}:dead`) plus a sorted set by
 * failure time for newest-first listing; the oldest beyond `maxEntries` are dropped.
 */
export class WebhookDeadLetters {
  constructor(
    private readonly redis: RedisClient,
    private readonly maxEntries = 10_000,
  ) {}

  async add(entry: Omit<DeadLetter, 'id'>): Promise<DeadLetter> {
    const dead: DeadLetter = { id: randomUUID(), ...entry };
    await this.redis
      .multi()
      .hset(DEAD_HASH, dead.id, JSON.stringify(dead))
      .zadd(DEAD_INDEX, dead.failed_at, dead.id)
      .exec();
    const excess = (await this.redis.zcard(DEAD_INDEX)) - this.maxEntries;
    if (excess > 0) {
      const old = await this.redis.zrange(DEAD_INDEX, 0, excess - 1);
      if (old.length > 0) {
        await this.redis
          .multi()
          .hdel(DEAD_HASH, ...old)
          .zrem(DEAD_INDEX, ...old)
          .exec();
      }
    }
    return dead;
  }

  /** Newest first. */
  async list(limit: number): Promise<DeadLetter[]> {
    const ids = await this.redis.zrevrange(DEAD_INDEX, 0, Math.max(0, limit - 1));
    if (ids.length === 0) return [];
    const raws = await this.redis.hmget(DEAD_HASH, ...ids);
    return raws.flatMap((raw) => {
      const d = raw === null ? undefined : parseDeadLetter(raw);
      return d ? [d] : [];
    });
  }

  async count(): Promise<number> {
    return this.redis.zcard(DEAD_INDEX);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const raw = await this.redis.hget(DEAD_HASH, id);
    return raw === null ? undefined : parseDeadLetter(raw);
  }

  /** Removes an entry; false when it was not there (already replayed by someone else). */
  async remove(id: string): Promise<boolean> {
    const [[, n] = [null, 0]] =
      (await this.redis.multi().hdel(DEAD_HASH, id).zrem(DEAD_INDEX, id).exec()) ?? [];
    return n === 1;
  }
}

function parseDeadLetter(raw: string): DeadLetter | undefined {
  try {
    const d = JSON.parse(raw) as Record<string, unknown>;
    const delivery = parseWebhookDelivery(d['delivery']);
    if (!delivery || typeof d['id'] !== 'string') return undefined;
    return {
      id: d['id'],
      delivery,
      attempts: typeof d['attempts'] === 'number' ? d['attempts'] : 0,
      last_status: typeof d['last_status'] === 'number' ? d['last_status'] : null,
      last_error: typeof d['last_error'] === 'string' ? d['last_error'] : '',
      failed_at: typeof d['failed_at'] === 'number' ? d['failed_at'] : 0,
    };
  } catch {
    return undefined;
  }
}
