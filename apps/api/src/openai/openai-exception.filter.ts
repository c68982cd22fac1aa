import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@hotpath/telemetry';
import { LOGGER } from '../core/tokens';
import { toOpenAiErrorResponse } from '../errors/error-mapping';

/** The OpenAI routes' filter: same statuses as everywhere, OpenAI's error body. */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const res = toOpenAiErrorResponse(err);
    if (res.status >= 500) {
      this.logger.error('request failed', {
        request_id: request.id,
        method: request.method,
        route: request.routeOptions?.url ?? 'unmatched',
        status: res.status,
        code: res.body.error.code,
        err: err instanceof Error ? err : String(err),
        ...(res.status === 500 && err instanceof Error ? { stack: err.stack } : {}),
      });
    }
    if (reply.sent) return;
    void reply.status(res.status).headers(res.headers).send(res.body);
  }
}
