import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection';

/** Outcome of claiming an idempotency key. */
export type IdempotencyClaim =
  { kind: 'claimed' } | { kind: 'existing'; jobId: string } | { kind: 'mismatch'; jobId: string };

/** KEYS[1] moves to ARGV[2] (with TTL ARGV[3]) only while it still names the job ARGV[1] (`<id> `). */
const TAKE_OVER_LUA = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
`;

/**
 * `Idempotency-Key` handling (per tenant): the first request with a key claims it for its job id;
 * a retry with the same key and the same body gets that job back; the same key with a different body
 * is a client bug and is refused rather than silently answered with another request's job.
 */
export class IdempotencyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly ttlS = 24 * 3600,
  ) {}

  static bodyHash(body: unknown): string {
    return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
  }

  private key(tenant: string, idemKey: string): string {
    const h = createHash('sha256').update(`${tenant}\u0000${idemKey}`).digest('hex').slice(0, 40);
    return `hp:idem:${h}`;
  }

  async claim(tenant: string, idemKey: string, jobId: string, bodyHash: string): Promise<IdempotencyClaim> {
    const key = this.key(tenant, idemKey);
    const ok = await this.redis.set(key, `${jobId} ${bodyHash}`, 'EX', this.ttlS, 'NX');
    if (ok === 'OK') return { kind: 'claimed' };
    const existing = (await this.redis.get(key)) ?? '';
    const [id = '', hash = ''] = existing.split(' ');
    if (!id) return this.claim(tenant, idemKey, jobId, bodyHash);
    return hash === bodyHash ? { kind: 'existing', jobId: id } : { kind: 'mismatch', jobId: id };
  }

  /**
   * Moves a key from a job whose record is gone (expired, or lost with Redis data) to `jobId`, so
   * the request is created again. Atomic: of concurrent retries exactly one takes the key over.
   */
  async takeOver(
    tenant: string,
    idemKey: string,
    goneJobId: string,
    jobId: string,
    bodyHash: string,
  ): Promise<boolean> {
    const res = await this.redis.eval(
      TAKE_OVER_LUA,
      1,
      this.key(tenant, idemKey),
      `${goneJobId} `,
      `${jobId} ${bodyHash}`,
      this.ttlS,
    );
    return res === 1;
  }

  /** Gives a key back when the job it claimed could not be accepted (so a retry is not stuck on it). */
  async release(tenant: string, idemKey: string, jobId: string): Promise<void> {
    const key = this.key(tenant, idemKey);
    const v = await this.redis.get(key);
    if (v?.startsWith(`${jobId} `)) await this.redis.del(key);
  }
}
