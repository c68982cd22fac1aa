import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { ApiKeyRegistry, bearerKey } from '../auth/api-key-registry';

/** Injection token of the operator key registry (`HOTPATH_ADMIN_KEYS`). */
export const ADMIN_KEYS = Symbol('ADMIN_KEYS');

/**
 * Guards operator routes (`/v1/admin/...`) with `HOTPATH_ADMIN_KEYS` (`Authorization: Bearer`).
 * Without admin keys they are open only in open dev mode (no API keys either); a keyed deployment
 * without admin keys answers 403, so tenant keys never reach operator routes.
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  constructor(
    @Inject(ADMIN_KEYS) private readonly admins: ApiKeyRegistry,
    @Inject(ApiKeyRegistry) private readonly tenants: ApiKeyRegistry,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (this.admins.openMode) {
      if (this.tenants.openMode) return true;
      throw new HotpathError(ErrorCode.Forbidden, 'admin routes are disabled: set HOTPATH_ADMIN_KEYS');
    }
    const key = bearerKey(ctx.switchToHttp().getRequest<FastifyRequest>().headers.authorization);
    if (key === undefined) {
      throw new HotpathError(ErrorCode.Unauthorized, 'missing admin key: send "Authorization: Bearer <key>"');
    }
    if (this.admins.lookup(key) === undefined)
      throw new HotpathError(ErrorCode.Unauthorized, 'invalid admin key');
    return true;
  }
}
