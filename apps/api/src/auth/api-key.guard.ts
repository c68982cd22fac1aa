import {
  Inject,
  Injectable,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { ApiKeyRegistry, bearerKey } from './api-key-registry';

/** The tenant of requests in open dev mode (no keys configured). */
export const DEFAULT_TENANT = 'default';

type TenantRequest = FastifyRequest & { hotpathTenant?: string };

/**
 * `Authorization: Bearer <key>` → tenant, stored on the request for {@link Tenant}. Missing or
 * unknown keys get 401 `unauthorized`; the key itself is never logged or echoed.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(ApiKeyRegistry) private readonly registry: ApiKeyRegistry) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<TenantRequest>();
    if (this.registry.openMode) {
      req.hotpathTenant = DEFAULT_TENANT;
      return true;
    }
    const key = bearerKey(req.headers.authorization);
    if (key === undefined) {
      throw new HotpathError(ErrorCode.Unauthorized, 'missing API key: send "Authorization: Bearer <key>"');
    }
    const tenant = this.registry.lookup(key);
    if (tenant === undefined) throw new HotpathError(ErrorCode.Unauthorized, 'invalid API key');
    req.hotpathTenant = tenant;
    return true;
  }
}

/** Handler parameter: the tenant {@link ApiKeyGuard} resolved. */
export const Tenant = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const tenant = ctx.switchToHttp().getRequest<TenantRequest>().hotpathTenant;
  // A route using @Tenant() without the guard is a programming error, not a client's.
  if (tenant === undefined) throw new Error('@Tenant() used on a route without ApiKeyGuard');
  return tenant;
});
