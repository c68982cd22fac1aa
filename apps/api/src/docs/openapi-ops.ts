/** Operations and admin routes of the OpenAPI document (docs/api.md#operations, docs/api.md#admin). */

import { json, retryAfter, type Json } from './openapi-parts';

const obj = (properties: Json = {}): Json => ({ type: 'object', properties });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const noAuth: Json[] = [];

/** What the main document lends: its error response builder and the listing query. */
export interface OpsDocParts {
  errorResponse: (description: string, headers?: Json) => Json;
  listParameters: Json[];
}

/** `/v1/admin/*`, `/admin/queues`, `/healthz`, `/readyz`, `/metrics`. */
export function adminAndOpsPaths({ errorResponse, listParameters }: OpsDocParts): Json {
  const admin = {
    '401': errorResponse('Missing or invalid admin key (`unauthorized`)'),
    '403': errorResponse('Admin routes disabled: set `HOTPATH_ADMIN_KEYS` (`forbidden`)'),
  };
  const text = { type: 'string' };
  const deadLetter = obj({
    id: text,
    webhook_id: text,
    job_id: text,
    url: text,
    attempts: { type: 'integer' },
    last_status: { type: ['integer', 'null'] },
    last_error: text,
    created_at: text,
    failed_at: text,
  });
  const readiness = obj({
    status: { type: 'string', enum: ['ready', 'unavailable'] },
    checks: obj({
      redis: obj({ ok: { type: 'boolean' }, detail: { type: 'string' } }),
      config: obj({ ok: { type: 'boolean' }, source: { type: 'string' } }),
      model: obj({
        ok: { type: 'boolean' },
        model: { type: 'string' },
        workers: { type: 'integer' },
        unserved_shards: { type: 'array', items: { type: 'integer' } },
      }),
    }),
    error: obj({ code: { type: 'string' }, message: { type: 'string' } }),
  });
  return {
    '/v1/admin/jobs': {
      get: {
        operationId: 'listAllJobs',
        summary: 'Every tenant’s jobs, newest first; entries carry `tenant` (admin key)',
        parameters: [...listParameters, { name: 'tenant', in: 'query', schema: { type: 'string' } }],
        responses: {
          '200': { description: 'A page of jobs', content: json({ $ref: '#/components/schemas/JobList' }) },
          '400': errorResponse('Invalid query (`invalid_request`)'),
          ...admin,
        },
      },
    },
    '/v1/admin/queues': {
      get: {
        operationId: 'queueOverview',
        summary:
          'Per model and shard: counts, oldest waiting age, throughput, recent failures; worker heartbeats (admin key)',
        responses: { '200': { description: 'The queue overview', content: json(obj()) }, ...admin },
      },
    },
    '/admin/queues': {
      get: {
        operationId: 'queueDashboard',
        summary:
          'The read-only queue dashboard page (admin key; browsers log in with HTTP Basic, key as password)',
        responses: {
          '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } },
          '401': errorResponse('Login needed (`WWW-Authenticate: Basic`)'),
          '403': admin['403'],
        },
      },
    },
    '/v1/admin/webhooks/dead-letters': {
      get: {
        operationId: 'listWebhookDeadLetters',
        summary: 'Webhook deliveries that failed their last attempt, newest first (admin key)',
        parameters: [
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        ],
        responses: {
          '200': {
            description: 'Dead letters',
            content: json(
              obj({
                object: { const: 'list' },
                data: { type: 'array', items: deadLetter },
                total: { type: 'integer' },
              }),
            ),
          },
          '400': errorResponse('Invalid `limit`'),
          ...admin,
        },
      },
    },
    '/v1/admin/webhooks/dead-letters/{id}': {
      get: {
        operationId: 'getWebhookDeadLetter',
        summary: 'One dead letter (admin key)',
        parameters: [idParam],
        responses: {
          '200': { description: 'The dead letter', content: json(deadLetter) },
          ...admin,
          '404': errorResponse('Unknown dead letter'),
        },
      },
      delete: {
        operationId: 'deleteWebhookDeadLetter',
        summary: 'Drop a dead letter without delivering it (admin key)',
        parameters: [idParam],
        responses: {
          '204': { description: 'Deleted' },
          ...admin,
          '404': errorResponse('Unknown dead letter'),
        },
      },
    },
    '/v1/admin/webhooks/dead-letters/{id}/replay': {
      post: {
        operationId: 'replayWebhookDeadLetter',
        summary: 'Deliver a dead-lettered webhook again, same id and body (admin key)',
        parameters: [idParam],
        responses: {
          '202': {
            description: 'Scheduled for delivery',
            content: json(obj({ status: { const: 'scheduled' }, dead_letter: deadLetter })),
          },
          '400': errorResponse('The target is no longer allowed (`HOTPATH_WEBHOOK_ALLOWED_HOSTS`)'),
          ...admin,
          '404': errorResponse('Unknown dead letter'),
        },
      },
    },
    '/v1/usage': {
      get: {
        operationId: 'getUsage',
        summary: 'The calling tenant’s usage over a window (per-minute counters)',
        parameters: [
          {
            name: 'start',
            in: 'query',
            description: 'ISO 8601 or Unix seconds; default a day before `end`',
            schema: { type: 'string' },
          },
          {
            name: 'end',
            in: 'query',
            description: 'ISO 8601 or Unix seconds; default now',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description:
              'Totals and per-model counters: jobs, completed, failed, cancelled, cache_hits, rate_limited, prompt_tokens, completion_tokens',
            content: json(obj()),
          },
          '401': errorResponse('Missing or unknown API key'),
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'healthz',
        summary: 'Liveness',
        security: noAuth,
        responses: { '200': { description: 'Alive', content: json(obj({ status: { const: 'ok' } })) } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary:
          'Readiness: Redis reachable and config loaded; with `model`, a live worker for every shard of it',
        security: noAuth,
        parameters: [{ name: 'model', in: 'query', schema: { type: 'string' } }],
        responses: {
          '200': { description: 'Ready', content: json(readiness) },
          '404': errorResponse('Unknown model (`model_not_found`)'),
          '503': {
            description: 'Not ready (`redis_unavailable` or `model_unavailable`)',
            headers: retryAfter,
            content: json(readiness),
          },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics (docs/observability.md)',
        security: noAuth,
        responses: {
          '200': {
            description: 'Text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
  };
}
