import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@hotpath/telemetry';
import { LOGGER } from '../core/tokens';
import { toErrorResponse, toOpenAiErrorResponse } from './error-mapping';

/** Routes of the OpenAI-compatible API, whose clients expect OpenAI's error body. */
const OPENAI_ROUTE =
  /^(\/v1\/(completions|chat\/completions|embeddings|models)|\/(tokenize|detokenize))(\/|\?|$)/;

/**
 * The one exception filter: every error, from a handler, a guard, Fastify's body parser or the
 * not-found handler, leaves in the SPEC §3 shape — or in OpenAI's shape on the OpenAI-compatible
 * routes (SPEC §3.2), decided by URL so that body-parser errors raised before routing match too.
 * Statuses are the same either way. Stacks are logged for 500s, never sent.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const res = OPENAI_ROUTE.test(request.url) ? toOpenAiErrorResponse(err) : toErrorResponse(err);
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
