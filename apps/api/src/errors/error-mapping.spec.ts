import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { statusForCode, toErrorResponse } from './error-mapping';

describe('statusForCode', () => {
  it('maps every error code to its status', () => {
    const expected: [ErrorCode, number][] = [
      [ErrorCode.InvalidRequest, 400],
      [ErrorCode.InvalidInput, 400],
      [ErrorCode.Unauthorized, 401],
      [ErrorCode.Forbidden, 403],
      [ErrorCode.NotFound, 404],
      [ErrorCode.ModelNotFound, 404],
      [ErrorCode.Conflict, 409],
      [ErrorCode.PayloadTooLarge, 413],
      [ErrorCode.QueueFull, 429],
      [ErrorCode.RedisUnavailable, 503],
      [ErrorCode.Internal, 500],
    ];
    for (const [code, status] of expected) assert.equal(statusForCode(code), status, code);
  });

  it('has a status for every code', () => {
    for (const code of Object.values(ErrorCode)) assert.ok(statusForCode(code) >= 400, code);
  });
});

describe('toErrorResponse', () => {
  it('keeps code, message and param of a HotpathError', () => {
    const res = toErrorResponse(new HotpathError(ErrorCode.InvalidRequest, 'bad', 'params.max_tokens'));
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: { code: 'invalid_request', message: 'bad', param: 'params.max_tokens' },
    });
    assert.deepEqual(res.headers, {});
  });

  it('adds Retry-After to 429 and 503, defaulting when the error has none', () => {
    const full = toErrorResponse(new HotpathError(ErrorCode.QueueFull, 'full', undefined, 7));
    assert.equal(full.status, 429);
    assert.equal(full.headers['retry-after'], '7');
    const down = toErrorResponse(new HotpathError(ErrorCode.RedisUnavailable, 'down'));
    assert.equal(down.status, 503);
    assert.equal(down.headers['retry-after'], '2');
  });

  it('adds WWW-Authenticate to 401', () => {
    assert.equal(
      toErrorResponse(new HotpathError(ErrorCode.Unauthorized, 'no')).headers['www-authenticate'],
      'Bearer',
    );
  });

  it('maps ioredis connection errors to 503 redis_unavailable', () => {
    const samples: Error[] = [
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new Error('Connection is closed.'),
      Object.assign(new Error('Reached the max retries per request limit (which is 1).'), {
        name: 'MaxRetriesPerRequestError',
      }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      new Error('Command timed out'),
      // A slot's new master after a failover, answered inside a pipeline (seen in the failover e2e).
      Object.assign(new Error('MOVED 9311 127.0.0.1:39185'), { name: 'ReplyError' }),
      Object.assign(new Error('ASK 12 10.0.0.7:6379'), { name: 'ReplyError' }),
    ];
    for (const err of samples) {
      const res = toErrorResponse(err);
      assert.equal(res.status, 503, err.message);
      assert.equal(res.body.error.code, 'redis_unavailable');
      assert.ok(res.headers['retry-after']);
    }
  });

  it('maps Nest/Fastify HTTP errors by status', () => {
    assert.equal(toErrorResponse(new NotFoundException('Cannot GET /x')).body.error.code, 'not_found');
    const tooLarge = toErrorResponse(new HttpException('Request body is too large', 413));
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.body.error.code, 'payload_too_large');
    const badJson = toErrorResponse(new BadRequestException('Body is not valid JSON'));
    assert.deepEqual(badJson.body, { error: { code: 'invalid_request', message: 'Body is not valid JSON' } });
    assert.equal(toErrorResponse(new HttpException('x', 415)).body.error.code, 'invalid_request');
  });

  it('hides the message of unknown errors', () => {
    const res = toErrorResponse(new TypeError('secret internals at /srv/app.js:12'));
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, { error: { code: 'internal_error', message: 'internal error' } });
    assert.equal(toErrorResponse('a string').status, 500);
  });
});

describe('a request body the client abandoned', () => {
  it('is a 400, not a Redis outage (both carry ECONNRESET)', () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const res = toErrorResponse(aborted);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'invalid_request');
  });
});
