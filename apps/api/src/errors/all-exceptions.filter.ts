import {
  Catch,
  HttpException,
  Inject,
  NotFoundException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@hotpath/telemetry';
import { LOGGER } from '../core/tokens';
import { errorResponseForUrl } from './error-mapping';
import { allowedMethods } from '../http/route-table';
import { requestLogFields } from '../http/http-hooks';

/**
 * A 405 for a request no route matched whose path some route serves with another method; `undefined`
 * for a real 404 or any other error.
 */
function methodNotAllowed(err: unknown, request: FastifyRequest): HttpException | undefined {
  if (!(err instanceof NotFoundException) || request.routeOptions?.url !== undefined) return undefined;
  const allow = allowedMethods(request);
  if (allow.length === 0) return undefined;
  return new HttpException(
    { message: `${request.method} is not allowed here; allowed: ${allow.join(', ')}`, allow },
    405,
  );
}

/**
 * The one exception filter: every error, from a handler, a guard, Fastify's body parser or the
 * not-found handler, leaves in the docs/api.md#errors shape — or in OpenAI's shape on the OpenAI-compatible
 * routes (docs/openai.md), decided by URL so that body-parser errors raised before routing match too.
 * Statuses are the same either way. Stacks are logged for 500s, never sent.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const effective = methodNotAllowed(err, request) ?? err;
    const res = errorResponseForUrl(request.url, effective);
    if (res.status >= 500) {
      this.logger.error('request failed', {
        ...requestLogFields(request),
        method: request.method,
        route: request.routeOptions?.url ?? 'unmatched',
        status: res.status,
        code: res.body.error.code,
        err: err instanceof Error ? err : String(err),
        ...(res.status === 500 && err instanceof Error ? { stack: err.stack } : {}),
      });
    }
    if (reply.sent) return;
    const allow = allowOf(effective);
    const headers: Record<string, string> = allow ? { ...res.headers, allow } : { ...res.headers };
    // A route that chose its own challenge (the dashboard's Basic login) keeps it.
    if (reply.hasHeader('www-authenticate')) delete headers['www-authenticate'];
    void reply.status(res.status).headers(headers).send(res.body);
  }
}

/** The `Allow` header of a 405 built by {@link methodNotAllowed}. */
function allowOf(err: unknown): string | undefined {
  if (!(err instanceof HttpException) || err.getStatus() !== 405) return undefined;
  const allow = (err.getResponse() as { allow?: unknown }).allow;
  return Array.isArray(allow) ? allow.join(', ') : undefined;
}
