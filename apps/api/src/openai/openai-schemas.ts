import { z } from 'zod';
import { JobLimits } from '@hotpath/contracts';
import { documentedAs } from '../docs/openapi-parts';
import { PARAM, type OpenAiCode } from './openai-errors';

/**
 * The zod schemas of the OpenAI-compatible request bodies. They validate the requests
 * (openai-request.ts) and are the OpenAPI document's request schemas, so the two cannot drift.
 *
 * Messages are OpenAI's own where it has one; `{param}` in a message is replaced by the field's
 * name (`messages[0].content`) when the issue becomes an error. Issues whose zod kind does not tell
 * OpenAI's `code` carry it in `params.openai` (see openAiCodeOf).
 */

/** A custom issue with OpenAI's code. */
function issue(code: OpenAiCode, message: string): z.core.$ZodRawIssue {
  return { code: 'custom', message, params: { openai: code }, input: undefined };
}

/** Absent: `undefined` or `null` (OpenAI's clients send `null` for fields left unset). */
const absent = (v: unknown): v is null | undefined => v === undefined || v === null;

/**
 * A field OpenAI defines that Hotpath does not implement: accepted only at its neutral value (what
 * OpenAI does when it is omitted), refused otherwise with `unsupported_parameter`.
 */
function neutral(key: string, isNeutral: (v: unknown) => boolean, neutralValue: string) {
  return z
    .unknown()
    .superRefine((v, ctx) => {
      if (absent(v) || isNeutral(v)) return;
      ctx.addIssue(issue('unsupported_parameter', `'${key}' is not supported by this server`));
    })
    .optional()
    .meta({ description: `Not supported: accepted only as ${neutralValue}` });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Neutral values of the fields of completions and chat completions Hotpath does not implement. */
const GENERATION_NEUTRAL = {
  echo: neutral('echo', (v) => v === false, '`false`'),
  best_of: neutral('best_of', (v) => v === 1, '`1`'),
  logprobs: neutral('logprobs', (v) => v === false || v === 0, '`false` or `0`'),
  top_logprobs: neutral('top_logprobs', (v) => v === 0, '`0`'),
  suffix: neutral('suffix', (v) => v === '', '`""`'),
  presence_penalty: neutral('presence_penalty', (v) => v === 0, '`0`'),
  frequency_penalty: neutral('frequency_penalty', (v) => v === 0, '`0`'),
  logit_bias: neutral('logit_bias', (v) => isObject(v) && Object.keys(v).length === 0, '`{}`'),
  tools: neutral('tools', (v) => Array.isArray(v) && v.length === 0, '`[]`'),
  tool_choice: neutral('tool_choice', (v) => v === 'none', '`"none"`'),
  parallel_tool_calls: neutral('parallel_tool_calls', (v) => typeof v === 'boolean', 'a boolean'),
  functions: neutral('functions', (v) => Array.isArray(v) && v.length === 0, '`[]`'),
  function_call: neutral('function_call', (v) => v === 'none', '`"none"`'),
  response_format: neutral(
    'response_format',
    (v) => isObject(v) && v['type'] === 'text',
    '`{"type": "text"}`',
  ),
  store: neutral('store', (v) => v === false, '`false`'),
  metadata: neutral('metadata', (v) => isObject(v), 'an object'),
  service_tier: neutral('service_tier', (v) => v === 'auto' || v === 'default', '`"auto"` or `"default"`'),
  modalities: neutral(
    'modalities',
    (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text',
    '`["text"]`',
  ),
  reasoning_effort: neutral('reasoning_effort', () => false, 'absent'),
  prediction: neutral('prediction', () => false, 'absent'),
  audio: neutral('audio', () => false, 'absent'),
  web_search_options: neutral('web_search_options', () => false, 'absent'),
};

function numberField(param: string, min: number, max: number, int = false) {
  const range = `${param} must be between ${min} and ${max}`;
  const base = z.number({ error: `${param} must be ${int ? 'an integer' : 'a number'}` });
  return (int ? base.int({ error: `${param} must be an integer` }) : base)
    .min(min, { error: range })
    .max(max, { error: range })
    .nullish();
}

function stringField(param: string, maxLength: number) {
  const error = `${param} must be a string of at most ${maxLength} characters`;
  return z.string({ error }).max(maxLength, { error }).nullish();
}

function booleanField(param: string) {
  return z.boolean({ error: `${param} must be a boolean` }).nullish();
}

const modelField = z
  .string({
    error: (iss) =>
      absent(iss.input) ? 'you must provide a model parameter' : 'model must be a non-empty string',
  })
  .min(1, { error: 'model must be a non-empty string' })
  .max(128, { error: 'model must be a non-empty string' });

const routingFields = {
  priority: z
    .enum(['high', 'normal', 'low'], { error: "priority must be 'high', 'normal' or 'low'" })
    .nullish()
    .meta({ description: 'Hotpath extension' }),
  routing_key: stringField('routing_key', JobLimits.maxRoutingKeyChars).meta({
    description: 'Hotpath extension: picks the shard',
  }),
};

/** JSON Schema of OpenAI's string-or-list fields: `item` bounds each string, `list` the list. */
function stringOrList(item: Record<string, unknown>, list: Record<string, unknown>, nullable = false) {
  const text = { type: 'string', ...item };
  return {
    jsonSchema: {
      anyOf: [text, { type: 'array', items: text, ...list }, ...(nullable ? [{ type: 'null' }] : [])],
    },
  };
}

const promptText = z
  .string({
    error: (iss) =>
      absent(iss.input)
        ? 'you must provide a prompt'
        : 'prompt must be a string (token arrays are not supported)',
  })
  .max(JobLimits.maxPromptChars, { error: `prompt is longer than ${JobLimits.maxPromptChars} characters` });

/** A prompt: a string, or OpenAI's list form holding exactly one string. */
const promptField = z
  .preprocess((p, ctx) => {
    if (!Array.isArray(p)) return p;
    if (p.length !== 1)
      ctx.addIssue(issue('unsupported_parameter', 'only one prompt per request is supported'));
    return p[0];
  }, promptText)
  .register(
    documentedAs,
    stringOrList({ maxLength: JobLimits.maxPromptChars }, { minItems: 1, maxItems: 1 }),
  );

const stopMessage = `stop sequences must be 1-${JobLimits.maxStopChars} characters`;
/** `stop`: a string or up to four strings, always a list once parsed. */
const stopField = z
  .preprocess(
    (s) => (typeof s === 'string' ? [s] : s),
    z
      .array(
        z
          .string({ error: stopMessage })
          .min(1, { error: stopMessage })
          .max(JobLimits.maxStopChars, { error: stopMessage }),
        { error: 'stop must be a string or an array of strings' },
      )
      .max(JobLimits.maxStops, { error: `stop may hold at most ${JobLimits.maxStops} sequences` })
      .nullish(),
  )
  .register(
    documentedAs,
    stringOrList({ minLength: 1, maxLength: JobLimits.maxStopChars }, { maxItems: JobLimits.maxStops }, true),
  );

const CHAT_ROLES = ['system', 'developer', 'user', 'assistant'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];
const ROLE_SET: ReadonlySet<string> = new Set(CHAT_ROLES);
const MESSAGE_FIELDS: ReadonlySet<string> = new Set(['role', 'content', 'name', 'refusal']);

/** One chat message, its content flattened to text. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
  name?: string;
}

const messageContent = z
  .unknown()
  .optional()
  .meta({
    anyOf: [
      { type: 'string' },
      {
        type: 'array',
        items: {
          type: 'object',
          properties: { type: { const: 'text' }, text: { type: 'string' } },
          required: ['type', 'text'],
        },
      },
      { type: 'null', description: 'assistant messages only' },
    ],
  });

/**
 * A chat message. Text parts are joined; anything else OpenAI allows in a message (images, audio,
 * tool calls, other roles) is refused by name with `unsupported_parameter`.
 */
const chatMessage = z
  .object(
    {
      role: z
        .string({ error: `${PARAM} must be one of ${CHAT_ROLES.join(', ')}` })
        .superRefine((role, ctx) => {
          if (!ROLE_SET.has(role)) {
            ctx.addIssue(issue('unsupported_parameter', `${PARAM} must be one of ${CHAT_ROLES.join(', ')}`));
          }
        })
        .meta({ enum: [...CHAT_ROLES] }),
      content: messageContent,
      name: z.string({ error: `${PARAM} must be a string` }).nullish(),
      refusal: z.unknown().optional().meta({ description: 'ignored' }),
    },
    { error: `${PARAM} must be an object` },
  )
  .catchall(z.unknown())
  .transform((m, ctx): ChatMessage => {
    for (const [k, v] of Object.entries(m)) {
      if (MESSAGE_FIELDS.has(k) || absent(v) || (Array.isArray(v) && v.length === 0)) continue;
      ctx.addIssue({
        ...issue('unsupported_parameter', `${PARAM} is not supported`),
        path: [k.slice(0, 64)],
      });
    }
    const content = messageText(m.content, m.role, ctx);
    return { role: m.role as ChatRole, content, ...(typeof m.name === 'string' ? { name: m.name } : {}) };
  });

function messageText(content: unknown, role: string, ctx: z.RefinementCtx): string {
  if (typeof content === 'string') return content;
  if (absent(content) && role === 'assistant') return '';
  if (Array.isArray(content)) {
    return content
      .map((part: unknown, j) => {
        if (isObject(part) && part['type'] === 'text' && typeof part['text'] === 'string')
          return part['text'];
        ctx.addIssue({
          ...issue('unsupported_parameter', `${PARAM}: only text content parts are supported`),
          path: ['content', j],
        });
        return '';
      })
      .join('');
  }
  const message = `${PARAM} must be a string or an array of text parts`;
  ctx.addIssue({
    ...issue(absent(content) ? 'missing_required_parameter' : 'invalid_type', message),
    path: ['content'],
  });
  return '';
}

const messagesField = z
  .array(chatMessage, {
    error: (iss) => (absent(iss.input) ? 'you must provide messages' : 'messages must be a non-empty array'),
  })
  .min(1, { error: 'messages must be a non-empty array' })
  .max(1024, { error: 'too many messages (at most 1024)' });

const streamOptions = z
  .strictObject(
    { include_usage: z.boolean({ error: 'include_usage must be a boolean' }).nullish() },
    { error: 'stream_options must be an object' },
  )
  .nullish();

/** Fields completions and chat completions share, in the order their problems are reported. */
const generationFields = {
  n: z
    .unknown()
    .superRefine((n, ctx) => {
      if (!absent(n) && n !== 1) ctx.addIssue(issue('unsupported_parameter', 'only n=1 is supported'));
    })
    .optional()
    .meta({ const: 1 }),
  user: stringField('user', 256),
  stream: booleanField('stream').meta({ default: false }),
  stream_options: streamOptions,
  temperature: numberField('temperature', 0, 2).meta({ default: 1 }),
  max_tokens: numberField('max_tokens', 1, JobLimits.maxTokens, true),
  top_p: z
    .number({ error: 'top_p must be a number' })
    .gt(0, { error: 'top_p must be greater than 0' })
    .max(1, { error: 'top_p must be between 0 and 1' })
    .nullish(),
  top_k: numberField('top_k', 0, 1000, true).meta({ description: 'Hotpath extension (vLLM-style)' }),
  seed: numberField('seed', 0, 2 ** 32 - 1, true),
  stop: stopField,
  model: modelField,
  ...routingFields,
  ...GENERATION_NEUTRAL,
};

const bodyError = { error: 'the request body must be a JSON object' };

/** `POST /v1/completions`. */
export const CompletionRequestSchema = z.strictObject(
  { ...generationFields, prompt: promptField },
  bodyError,
);

/** `POST /v1/chat/completions`. */
export const ChatCompletionRequestSchema = z.strictObject(
  {
    ...generationFields,
    max_completion_tokens: numberField('max_completion_tokens', 1, JobLimits.maxTokens, true).meta({
      description: 'Wins over `max_tokens` when both are set',
    }),
    messages: messagesField,
  },
  bodyError,
);

const embeddingText = z
  .string({ error: 'input must be strings (token arrays are not supported)' })
  .min(1, { error: 'input must not contain empty strings' })
  .max(JobLimits.maxTextChars, { error: `${PARAM} is longer than ${JobLimits.maxTextChars} characters` });

/** `POST /v1/embeddings`. */
export const EmbeddingRequestSchema = z.strictObject(
  {
    encoding_format: z
      .enum(['float', 'base64'], { error: "encoding_format must be 'float' or 'base64'" })
      .nullish()
      .meta({ default: 'float' }),
    user: stringField('user', 256),
    model: modelField,
    input: z
      .preprocess(
        (v) => (typeof v === 'string' ? [v] : v),
        z
          .array(embeddingText, {
            error: (iss) =>
              absent(iss.input)
                ? 'you must provide an input'
                : 'input must be a string or a non-empty array of strings',
          })
          .min(1, { error: 'input must be a string or a non-empty array of strings' })
          .max(JobLimits.maxTexts, { error: `input has more than ${JobLimits.maxTexts} entries` }),
      )
      .register(
        documentedAs,
        stringOrList(
          { minLength: 1, maxLength: JobLimits.maxTextChars },
          { minItems: 1, maxItems: JobLimits.maxTexts },
        ),
      ),
    ...routingFields,
    dimensions: neutral('dimensions', () => false, 'absent'),
  },
  bodyError,
);

/** `POST /tokenize` (vLLM's shape): a prompt or chat messages to count and list as token ids. */
export const TokenizeRequestSchema = z.strictObject(
  {
    model: modelField,
    prompt: promptField.nullish(),
    messages: messagesField.nullish(),
    add_special_tokens: booleanField('add_special_tokens').meta({ default: true }),
    add_generation_prompt: booleanField('add_generation_prompt')
      .superRefine((v, ctx) => {
        if (v !== false) return;
        ctx.addIssue(
          issue(
            'unsupported_parameter',
            "add_generation_prompt=false is not supported (chat prompts always end with the assistant's turn)",
          ),
        );
      })
      .meta({ const: true }),
    return_token_strs: booleanField('return_token_strs').meta({ default: false }),
  },
  bodyError,
);

/** `POST /detokenize` (vLLM's shape): token ids back to text. */
export const DetokenizeRequestSchema = z.strictObject(
  {
    model: modelField,
    tokens: z
      .array(
        z
          .number({ error: 'tokens must hold non-negative integers' })
          .int({ error: 'tokens must hold non-negative integers' })
          .min(0, { error: 'tokens must hold non-negative integers' })
          .lt(2 ** 31, { error: 'tokens must hold non-negative integers' }),
        { error: `tokens must be an array of at most ${JobLimits.maxPromptChars} token ids` },
      )
      .max(JobLimits.maxPromptChars, {
        error: `tokens must be an array of at most ${JobLimits.maxPromptChars} token ids`,
      }),
  },
  bodyError,
);
