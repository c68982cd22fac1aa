import type { Cluster, Redis } from 'ioredis';
import { cacheKeys } from './cache-keys';

/**
 * Model version digests, published by workers when they load a model and read by the API to build
 * cache keys. A short local memo keeps the lookup off the hot path; a version change is visible
 * after at most `memoMs`, and the worker refuses to fill entries computed for another digest anyway.
 */
export class ModelDigests {
  private readonly memo = new Map<string, { digest: string | null; at: number }>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly memoMs = 2000,
  ) {}

  async publish(model: string, digest: string): Promise<void> {
    await this.redis.set(cacheKeys.digest(model), digest);
    this.memo.set(model, { digest, at: Date.now() });
  }

  /** The digest of the model version being served, or null when no worker has published one yet. */
  async current(model: string): Promise<string | null> {
    const m = this.memo.get(model);
    if (m && Date.now() - m.at < this.memoMs) return m.digest;
    const digest = await this.redis.get(cacheKeys.digest(model));
    this.memo.set(model, { digest, at: Date.now() });
    return digest;
  }
}
