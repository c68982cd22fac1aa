/**
 * The OpenAI-compatible part of the OpenAPI document (docs/openai.md): request bodies from the zod
 * schemas that validate them (fields OpenAI defines and Hotpath does not implement are listed with
 * the only value accepted, see docs/openai.md#request-fields), response bodies, and the statuses
 * the routes answer. Errors use OpenAI's shape.
 */

import {
  ChatCompletionRequestSchema,
  CompletionRequestSchema,
  DetokenizeRequestSchema,
  EmbeddingRequestSchema,
  TokenizeRequestSchema,
} from '../openai/openai-schemas';
import { json, ref, retryAfter, schemaOf, type Json } from './openapi-parts';

const str = { type: 'string' };
const int = { type: 'integer' };
const num = { type: 'number' };

const usage: Json = {
  type: 'object',
  properties: {
    prompt_tokens: int,
    completion_tokens: int,
    total_tokens: int,
    prompt_tokens_details: {
      type: 'object',
      properties: { cached_tokens: { ...int, description: 'Prompt tokens reused from the prefix KV cache' } },
    },
  },
  required: ['prompt_tokens', 'total_tokens'],
};

const finishReason = { type: 'string', enum: ['stop', 'length'] };
const responseBase: Json = {
  id: { type: 'string', description: '`cmpl-<job id>` or `chatcmpl-<job id>`' },
  created: int,
  model: str,
  system_fingerprint: { type: ['string', 'null'], description: 'The served model version' },
  usage,
};

/** The schemas the OpenAI routes reference, for `components.schemas`. */
export const OPENAI_SCHEMAS: Record<string, Json> = {
  CompletionRequest: schemaOf(CompletionRequestSchema, 'input'),
  ChatCompletionRequest: schemaOf(ChatCompletionRequestSchema, 'input'),
  EmbeddingRequest: schemaOf(EmbeddingRequestSchema, 'input'),
  TokenizeRequest: schemaOf(TokenizeRequestSchema, 'input'),
  DetokenizeRequest: schemaOf(DetokenizeRequestSchema, 'input'),
  Completion: {
    type: 'object',
    properties: {
      ...responseBase,
      object: { const: 'text_completion' },
      choices: {
        type: 'array',
        items: {
          type: 'object',
          properties: { index: int, text: str, logprobs: { type: 'null' }, finish_reason: finishReason },
        },
      },
    },
  },
  ChatCompletion: {
    type: 'object',
    properties: {
      ...responseBase,
      object: { const: 'chat.completion' },
      choices: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            index: int,
            message: {
              type: 'object',
              properties: { role: { const: 'assistant' }, content: str, refusal: { type: 'null' } },
            },
            logprobs: { type: 'null' },
            finish_reason: finishReason,
          },
        },
      },
    },
  },
  EmbeddingList: {
    type: 'object',
    properties: {
      object: { const: 'list' },
      model: str,
      data: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            object: { const: 'embedding' },
            index: int,
            embedding: {
              oneOf: [
                { type: 'array', items: num },
                { type: 'string', description: 'base64 float32' },
              ],
            },
          },
        },
      },
      usage,
    },
  },
  Model: {
    type: 'object',
    properties: {
      id: str,
      object: { const: 'model' },
      created: { type: 'integer', description: 'When the model files were written (unix seconds)' },
      owned_by: str,
      root: str,
      parent: {
        type: ['string', 'null'],
        description: 'The model a variant belongs to; null for a model itself',
      },
      max_model_len: { type: ['integer', 'null'] },
      hotpath: {
        type: 'object',
        properties: {
          backend: str,
          tasks: { type: 'array', items: str },
          dtype: str,
          onnx_file: str,
          dtypes: { type: 'array', items: str, description: 'Graph dtypes the model folder holds' },
          variant: str,
          variants: {
            type: 'array',
            items: str,
            description: 'Variants served side by side (on a model itself)',
          },
          default_variant: str,
          served: { type: 'boolean', description: 'false: configured, but no live worker serves it' },
          workers: int,
          unserved_shards: { type: 'array', items: int },
        },
      },
    },
  },
  OpenAiError: {
    type: 'object',
    properties: {
      error: {
        type: 'object',
        properties: {
          message: str,
          type: str,
          param: { type: ['string', 'null'] },
          code: { type: ['string', 'null'] },
        },
      },
    },
  },
};

const openAiError = (description: string, headers?: Json): Json => ({
  description,
  content: json(ref('OpenAiError')),
  ...(headers ? { headers } : {}),
});

/** Every status a generation or embedding route answers. */
const generationErrors: Json = {
  '400': openAiError('Invalid or unsupported parameter (`param` names it)'),
  '401': openAiError('Missing or invalid API key'),
  '404': openAiError('Unknown model (`model_not_found`)'),
  '409': openAiError('Idempotency-Key reused with a different body'),
  '413': openAiError('Body too large'),
  '429': openAiError('Backpressure (`queue_full`)', retryAfter),
  '500': openAiError('The job failed (`inference_failed`)'),
  '503': openAiError('No live worker serves the model (`model_unavailable`), or Redis is down', retryAfter),
  '504': openAiError('The job did not finish within 600 s (it keeps running)'),
};

const post = (operationId: string, summary: string, request: string, response: string): Json => ({
  post: {
    operationId,
    summary,
    tags: ['openai'],
    parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 255 } }],
    requestBody: { required: true, content: json(ref(request)) },
    responses: {
      '200': {
        description: 'The answer; with `stream: true`, SSE chunks ending in `data: [DONE]`',
        content: { ...json(ref(response)), 'text/event-stream': { schema: str } },
      },
      ...generationErrors,
    },
  },
});

const tokenizeRoute = (operationId: string, summary: string, request: Json, response: Json): Json => ({
  post: {
    operationId,
    summary,
    tags: ['openai'],
    requestBody: { required: true, content: json(request) },
    responses: {
      '200': { description: 'The answer', content: json(response) },
      '400': openAiError('Invalid request, or a model without a tokenizer'),
      '401': openAiError('Missing or invalid API key'),
      '404': openAiError('Unknown model (`model_not_found`)'),
    },
  },
});

/** The OpenAI-compatible paths. */
export function openAiPaths(): Json {
  return {
    '/v1/completions': post('createCompletion', 'Text completion', 'CompletionRequest', 'Completion'),
    '/v1/chat/completions': post(
      'createChatCompletion',
      'Chat completion (the model’s chat template renders the messages)',
      'ChatCompletionRequest',
      'ChatCompletion',
    ),
    '/v1/embeddings': post(
      'createEmbedding',
      'Embeddings (`float` or `base64`)',
      'EmbeddingRequest',
      'EmbeddingList',
    ),
    '/tokenize': tokenizeRoute('tokenize', 'vLLM-compatible tokenization', ref('TokenizeRequest'), {
      type: 'object',
      properties: {
        count: int,
        max_model_len: { type: ['integer', 'null'] },
        tokens: { type: 'array', items: int },
      },
    }),
    '/detokenize': tokenizeRoute('detokenize', 'vLLM-compatible detokenization', ref('DetokenizeRequest'), {
      type: 'object',
      properties: { prompt: str },
    }),
    '/v1/models': {
      get: {
        operationId: 'listModels',
        summary: 'Every configured model, with `hotpath.served` false when no live worker serves it',
        tags: ['openai'],
        responses: {
          '200': {
            description: 'A model list',
            content: json({
              type: 'object',
              properties: { object: { const: 'list' }, data: { type: 'array', items: ref('Model') } },
            }),
          },
          '401': openAiError('Missing or invalid API key'),
        },
      },
    },
    '/v1/models/{id}': {
      get: {
        operationId: 'retrieveModel',
        summary: 'One model',
        tags: ['openai'],
        parameters: [{ name: 'id', in: 'path', required: true, schema: str }],
        responses: {
          '200': { description: 'The model', content: json(ref('Model')) },
          '401': openAiError('Missing or invalid API key'),
          '404': openAiError('Unknown model (`model_not_found`)'),
        },
      },
    },
  };
}
