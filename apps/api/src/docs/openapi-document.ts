import { z } from 'zod';
import { OPENAI_SCHEMAS, openAiPaths } from './openapi-openai';
import { adminAndOpsPaths } from './openapi-ops';
import { json, ref, retryAfter, schemaOf, type Json } from './openapi-parts';
import {
  BatchEntrySchema,
  BatchJobRequestSchema,
  ErrorCode,
  JobRequestSchema,
  JobViewSchema,
} from '@hotpath/contracts';

/** The wire shape of every error (docs/api.md#errors), as a schema for the document. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    param: z.string().optional(),
  }),
});

const errorResponse = (description: string, headers?: Json): Json => ({
  description,
  content: json(ref('Error')),
  ...(headers ? { headers } : {}),
});
const common = {
  '400': errorResponse('Invalid request (`invalid_request`, `param` names the field)'),
  '401': errorResponse('Missing or invalid API key (`unauthorized`)'),
  '503': errorResponse('Redis unavailable (`redis_unavailable`)', retryAfter),
};
const jobIdParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
/** Query of `GET /v1/jobs` (and, with `tenant`, of `GET /v1/admin/jobs`). */
const LIST_PARAMETERS = [
  {
    name: 'status',
    in: 'query',
    schema: { type: 'string', enum: ['queued', 'running', 'completed', 'failed', 'cancelled'] },
  },
  { name: 'model', in: 'query', schema: { type: 'string' } },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
  {
    name: 'cursor',
    in: 'query',
    description: 'The previous page’s `next_cursor`',
    schema: { type: 'string' },
  },
];
const requestIdHeader = {
  'x-request-id': { description: 'The request id (echoed when sent)', schema: { type: 'string' } },
};
const jobResponse = (description: string, extraHeaders: Json = {}): Json => ({
  description,
  headers: { ...requestIdHeader, ...extraHeaders },
  content: json(ref('JobView')),
});

/**
 * The OpenAPI 3.1 document of the API, generated from the same zod schemas that validate requests,
 * so the documentation cannot drift from the validation.
 */
export function buildOpenApiDocument(version: string): Json {
  const batchRequest = schemaOf(BatchJobRequestSchema, 'input');
  const batchProps = batchRequest['properties'] as Json;
  batchProps['jobs'] = { ...(batchProps['jobs'] as Json), items: ref('JobRequest') };
  const xCache = {
    'x-cache': {
      description: 'Result cache outcome',
      schema: { type: 'string', enum: ['hit', 'miss', 'coalesced', 'bypass'] },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hotpath API',
      version,
      description:
        'Asynchronous inference jobs over BullMQ shard queues. Errors: `{"error": {code, message, param}}`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: '`HOTPATH_API_KEYS` key' } },
      schemas: {
        JobRequest: schemaOf(JobRequestSchema, 'input'),
        BatchJobRequest: batchRequest,
        JobView: schemaOf(JobViewSchema, 'output'),
        BatchResponse: {
          type: 'object',
          properties: { jobs: { type: 'array', items: schemaOf(BatchEntrySchema, 'output') } },
          required: ['jobs'],
        },
        Error: schemaOf(ErrorBodySchema, 'output'),
        JobList: {
          type: 'object',
          properties: {
            object: { const: 'list' },
            data: { type: 'array', items: ref('JobView'), description: 'Jobs without `result`' },
            next_cursor: { type: ['string', 'null'] },
            has_more: { type: 'boolean' },
          },
        },
        ...OPENAI_SCHEMAS,
      },
    },
    paths: {
      '/v1/jobs': {
        post: {
          operationId: 'submitJob',
          summary: 'Submit a job',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              description: 'Same key (per tenant) and body → the same job; different body → 409',
              schema: { type: 'string', maxLength: 255 },
            },
            {
              name: 'Prefer',
              in: 'header',
              description:
                '`wait=N`: wait up to N seconds (capped by `api.max_wait_s`) for the job to finish',
              schema: { type: 'string', example: 'wait=10' },
            },
          ],
          requestBody: { required: true, content: json(ref('JobRequest')) },
          responses: {
            '200': {
              ...jobResponse(
                'Finished (within `Prefer: wait`, or an idempotent replay of a finished job). With `Accept: text/event-stream`: the job’s events in this response (as `GET /v1/jobs/{id}/events`; `Prefer` is ignored), its id in `x-job-id` and `Location`; refusals stay JSON',
                {
                  ...xCache,
                  'x-job-id': { description: 'The job (event-stream answers)', schema: { type: 'string' } },
                },
              ),
              content: {
                ...json(ref('JobView')),
                'text/event-stream': { schema: { type: 'string' } },
              },
            },
            '202': jobResponse('Accepted and queued', xCache),
            ...common,
            '404': errorResponse('Unknown model (`model_not_found`)'),
            '409': errorResponse('Idempotency-Key reused with a different body (`conflict`)'),
            '413': errorResponse('Body too large (`payload_too_large`)'),
            '429': errorResponse(
              'Backpressure (`queue_full`) or a tenant limit (`rate_limit_exceeded`: requests/s, tokens/min, max_queued; with x-ratelimit-* headers)',
              retryAfter,
            ),
            '503': errorResponse(
              'No live worker serves the model or the job’s shard (`model_unavailable`), or Redis is down (`redis_unavailable`)',
              retryAfter,
            ),
          },
        },
        get: {
          operationId: 'listJobs',
          summary: 'The tenant’s own jobs, newest first, cursor-paginated',
          parameters: LIST_PARAMETERS,
          responses: {
            '200': { description: 'A page of jobs', content: json(ref('JobList')) },
            ...common,
          },
        },
      },
      '/v1/jobs/batch': {
        post: {
          operationId: 'submitJobBatch',
          summary: 'Submit up to 100 jobs; each is validated and submitted on its own',
          requestBody: { required: true, content: json(ref('BatchJobRequest')) },
          responses: {
            '200': { description: 'One entry per job, in order', content: json(ref('BatchResponse')) },
            ...common,
            '413': errorResponse('Body too large (`payload_too_large`)'),
          },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          operationId: 'getJob',
          summary: 'Read a job (long-poll with `?wait=N`)',
          parameters: [
            jobIdParam,
            {
              name: 'wait',
              in: 'query',
              description: 'Seconds to wait for completion',
              schema: { type: 'number' },
            },
          ],
          responses: {
            '200': jobResponse('The job'),
            ...common,
            '404': errorResponse('Unknown job, or another tenant’s (`not_found`)'),
          },
        },
        delete: {
          operationId: 'cancelJob',
          summary: 'Cancel a queued job, or stop a running generation at its next token',
          parameters: [jobIdParam],
          responses: {
            '200': jobResponse('The cancelled job'),
            ...common,
            '404': errorResponse('Unknown job, or another tenant’s (`not_found`)'),
            '409': errorResponse('Already finished (`conflict`)'),
          },
        },
      },
      '/v1/jobs/{id}/events': {
        get: {
          operationId: 'jobEvents',
          summary:
            'Server-Sent Events of a job: `status`, `token` ({index, text, token_id}), `done`, `error`',
          description:
            'A client connecting late first receives every event produced so far, then live ones; a finished job replays its events and ends with `done`. `Last-Event-ID` resumes (a value that is not an event id is a 400); a re-run job resumes instead of repeating tokens.',
          parameters: [jobIdParam],
          responses: {
            '200': {
              description: 'An event stream',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...common,
            '404': errorResponse('Unknown job, or another tenant’s (`not_found`)'),
          },
        },
      },
      ...openAiPaths(),
      ...adminAndOpsPaths({ errorResponse, listParameters: LIST_PARAMETERS }),
      '/v1/admin/cache/{model}': {
        delete: {
          operationId: 'purgeCache',
          summary: 'Delete every result-cache entry of a model (admin key, `HOTPATH_ADMIN_KEYS`)',
          parameters: [{ name: 'model', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'How many entries were purged',
              content: json({
                type: 'object',
                properties: { model: { type: 'string' }, purged: { type: 'integer' } },
              }),
            },
            '403': errorResponse('Not an admin key (`forbidden`)'),
            '404': errorResponse('Unknown model (`model_not_found`)'),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
        },
      },
      '/docs': {
        get: {
          operationId: 'docs',
          summary: 'Swagger UI',
          security: [],
          responses: {
            '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } },
          },
        },
      },
    },
  };
}
