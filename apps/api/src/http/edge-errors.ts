import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { errorResponseForUrl } from '../errors/error-mapping';

/**
 * Errors Fastify answers before a route runs, in our error shape instead of Fastify's own.
 * `clientErrorHandler`: what Node's HTTP parser refuses (a control character in a header, headers
 * too large) or times out (`request_timeout_ms`); the socket is closed after the answer.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request was not received in time (api.request_timeout_ms)']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the request headers are too large']
        : [400, 'malformed HTTP request (an invalid character in a header, or a bad request line)'];
  const body = JSON.stringify({ error: { code: ErrorCode.InvalidRequest, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * `frameworkErrors`: URLs the router refuses (a path parameter over `maxParamLength`, a malformed
 * percent-encoding), answered as 400/414 `invalid_request` in the route's error shape.
 */
export function frameworkErrors(
  err: Error & { statusCode?: number; code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const res = errorResponseForUrl(
    request.url,
    new HotpathError(
      ErrorCode.InvalidRequest,
      tooLong ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` : 'malformed URL',
    ),
  );
  void reply
    .status(tooLong ? 414 : 400)
    .headers(res.headers)
    .send(res.body);
}

/** Fastify's `maxParamLength`: longer than any id the API hands out (UUIDs, dead-letter ids). */
export const MAX_PARAM_LENGTH = 100;
