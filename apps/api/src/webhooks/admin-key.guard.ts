import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { RedisClient } from '@hotpath/queue';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { isKeyedDeployment } from '../admin/keyed-deployment';
import { ApiKeyRegistry, basicKey, bearerKey } from '../auth/api-key-registry';
import { REDIS_PRODUCER } from '../core/tokens';
import { assertRedisReady } from '../redis/redis-availability';

/** Injection token of the operator key registry (`HOTPATH_ADMIN_KEYS`). */
export const ADMIN_KEYS = Symbol('ADMIN_KEYS');

/**
 * Guards operator routes (`/v1/admin/...`, `/admin/queues`) with `HOTPATH_ADMIN_KEYS`
 * (`Authorization: Bearer <key>`, or `Basic` with the key as password).
 * Without admin keys they are open only in open dev mode (no API keys either), and only on a Redis
 * no keyed API has used: their powers span every tenant's data. A keyed deployment without admin
 * keys answers 403, so tenant keys never reach operator routes.
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  constructor(
    @Inject(ADMIN_KEYS) private readonly admins: ApiKeyRegistry,
    @Inject(ApiKeyRegistry) private readonly tenants: ApiKeyRegistry,
    @Inject(REDIS_PRODUCER) private readonly producer: RedisClient,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.admins.openMode) {
      if (!this.tenants.openMode)
        throw new HotpathError(ErrorCode.Forbidden, 'admin routes are disabled: set HOTPATH_ADMIN_KEYS');
      assertRedisReady(this.producer);
      if (await isKeyedDeployment(this.producer)) {
        throw new HotpathError(
          ErrorCode.Forbidden,
          'admin routes are disabled in open dev mode on a Redis shared with a keyed deployment: set HOTPATH_ADMIN_KEYS',
        );
      }
      return true;
    }
    const header = ctx.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    // Basic (password = the key) lets a browser open the read-only queue dashboard.
    const key = bearerKey(header) ?? basicKey(header);
    if (key === undefined) {
      throw new HotpathError(ErrorCode.Unauthorized, 'missing admin key: send "Authorization: Bearer <key>"');
    }
    if (this.admins.lookup(key) === undefined)
      throw new HotpathError(ErrorCode.Unauthorized, 'invalid admin key');
    return true;
  }
}
