import { JobLimits, type GenerationParams, type Priority } from '@hotpath/contracts';
import { OpenAiRequestError } from './openai-errors';

/** A completion or chat request, validated and mapped onto native generation parameters. */
export interface OpenAiGenerationRequest {
  model: string;
  params: GenerationParams;
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk with `usage`. */
  includeUsage: boolean;
  priority?: Priority;
  routing_key?: string;
}

/** `POST /v1/completions`. */
export interface CompletionRequest extends OpenAiGenerationRequest {
  prompt: string;
}

/** One chat message, content flattened to text. */
export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string;
  name?: string;
}

/** `POST /v1/chat/completions`. */
export interface ChatRequest extends OpenAiGenerationRequest {
  messages: ChatMessage[];
}

/** `POST /v1/embeddings`. */
export interface EmbeddingRequest {
  model: string;
  input: string[];
  encoding_format: 'float' | 'base64';
  priority?: Priority;
  routing_key?: string;
}

/** `POST /tokenize` (vLLM's shape): a prompt or chat messages to count and list as token ids. */
export interface TokenizeRequest {
  model: string;
  prompt?: string;
  messages?: ChatMessage[];
  add_special_tokens: boolean;
  return_token_strs: boolean;
}

/** `POST /detokenize` (vLLM's shape): token ids back to text. */
export interface DetokenizeRequest {
  model: string;
  tokens: number[];
}

/** OpenAI's default sampling temperature (Hotpath's native default is greedy, 0). */
export const OPENAI_DEFAULT_TEMPERATURE = 1;

type Body = Record<string, unknown>;

/**
 * Fields OpenAI defines that Hotpath does not implement: accepted only at their neutral value
 * (what OpenAI does when they are omitted), refused otherwise with `unsupported_parameter`.
 */
const NEUTRAL: Record<string, (v: unknown) => boolean> = {
  echo: (v) => v === false,
  best_of: (v) => v === 1,
  logprobs: (v) => v === false || v === 0,
  top_logprobs: (v) => v === 0,
  suffix: (v) => v === '',
  presence_penalty: (v) => v === 0,
  frequency_penalty: (v) => v === 0,
  logit_bias: (v) => isObject(v) && Object.keys(v).length === 0,
  tools: (v) => Array.isArray(v) && v.length === 0,
  tool_choice: (v) => v === 'none',
  parallel_tool_calls: (v) => typeof v === 'boolean',
  functions: (v) => Array.isArray(v) && v.length === 0,
  function_call: (v) => v === 'none',
  response_format: (v) => isObject(v) && v['type'] === 'text',
  store: (v) => v === false,
  metadata: (v) => isObject(v),
  service_tier: (v) => v === 'auto' || v === 'default',
  modalities: (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text',
  dimensions: () => false,
  reasoning_effort: () => false,
  prediction: () => false,
  audio: () => false,
  web_search_options: () => false,
};

const GENERATION_FIELDS = [
  'model',
  'max_tokens',
  'temperature',
  'top_p',
  'seed',
  'stop',
  'n',
  'user',
  'stream',
  'stream_options',
  // Hotpath extensions (vLLM-style extra body fields).
  'top_k',
  'priority',
  'routing_key',
];
const COMPLETION_FIELDS = new Set([...GENERATION_FIELDS, 'prompt']);
const CHAT_FIELDS = new Set([...GENERATION_FIELDS, 'messages', 'max_completion_tokens']);
const EMBEDDING_FIELDS = new Set(['model', 'input', 'encoding_format', 'user', 'priority', 'routing_key']);

/** Parses a `/v1/completions` body. Throws {@link OpenAiRequestError} naming the parameter. */
export function parseCompletionRequest(body: unknown): CompletionRequest {
  const b = asBody(body);
  checkFields(b, COMPLETION_FIELDS);
  return { ...generationFields(b, b['max_tokens'], 'max_tokens'), prompt: parsePrompt(b['prompt']) };
}

/** Parses a `/v1/chat/completions` body. */
export function parseChatRequest(body: unknown): ChatRequest {
  const b = asBody(body);
  checkFields(b, CHAT_FIELDS);
  const useCompletionTokens = b['max_completion_tokens'] !== undefined && b['max_completion_tokens'] !== null;
  const max = useCompletionTokens ? b['max_completion_tokens'] : b['max_tokens'];
  const param = useCompletionTokens ? 'max_completion_tokens' : 'max_tokens';
  return { ...generationFields(b, max, param), messages: parseMessages(b['messages']) };
}

const TOKENIZE_FIELDS = new Set([
  'model',
  'prompt',
  'messages',
  'add_special_tokens',
  'add_generation_prompt',
  'return_token_strs',
]);
const DETOKENIZE_FIELDS = new Set(['model', 'tokens']);

/** Parses a `/tokenize` body: exactly one of `prompt` and `messages`. */
export function parseTokenizeRequest(body: unknown): TokenizeRequest {
  const b = asBody(body);
  checkFields(b, TOKENIZE_FIELDS);
  const hasPrompt = b['prompt'] !== undefined && b['prompt'] !== null;
  const hasMessages = b['messages'] !== undefined && b['messages'] !== null;
  if (hasPrompt === hasMessages) {
    throw new OpenAiRequestError('provide exactly one of prompt and messages', 'prompt', 'invalid_value');
  }
  const flag = (name: string, fallback: boolean): boolean => {
    const v = b[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean')
      throw new OpenAiRequestError(`${name} must be a boolean`, name, 'invalid_type');
    return v;
  };
  if (!flag('add_generation_prompt', true)) {
    throw new OpenAiRequestError(
      "add_generation_prompt=false is not supported (chat prompts always end with the assistant's turn)",
      'add_generation_prompt',
      'unsupported_parameter',
    );
  }
  return {
    model: parseModel(b),
    ...(hasPrompt ? { prompt: parsePrompt(b['prompt']) } : { messages: parseMessages(b['messages']) }),
    add_special_tokens: flag('add_special_tokens', true),
    return_token_strs: flag('return_token_strs', false),
  };
}

/** Parses a `/detokenize` body: `tokens` is a list of non-negative integers. */
export function parseDetokenizeRequest(body: unknown): DetokenizeRequest {
  const b = asBody(body);
  checkFields(b, DETOKENIZE_FIELDS);
  const t = b['tokens'];
  if (!Array.isArray(t) || t.length > JobLimits.maxPromptChars) {
    throw new OpenAiRequestError(
      `tokens must be an array of at most ${JobLimits.maxPromptChars} token ids`,
      'tokens',
      'invalid_type',
    );
  }
  if (!t.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < 2 ** 31)) {
    throw new OpenAiRequestError('tokens must hold non-negative integers', 'tokens', 'invalid_value');
  }
  return { model: parseModel(b), tokens: t as number[] };
}

/** Parses a `/v1/embeddings` body. */
export function parseEmbeddingRequest(body: unknown): EmbeddingRequest {
  const b = asBody(body);
  checkFields(b, EMBEDDING_FIELDS);
  const format = b['encoding_format'] ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw new OpenAiRequestError(
      "encoding_format must be 'float' or 'base64'",
      'encoding_format',
      'invalid_value',
    );
  }
  optionalString(b, 'user', 256);
  return {
    model: parseModel(b),
    input: parseInput(b['input']),
    encoding_format: format,
    ...routingFields(b),
  };
}

function asBody(body: unknown): Body {
  if (!isObject(body)) {
    throw new OpenAiRequestError('the request body must be a JSON object', 'body', 'invalid_type');
  }
  return body;
}

/** Unknown fields and non-neutral unsupported ones are refused, each naming the field. */
function checkFields(b: Body, known: ReadonlySet<string>): void {
  for (const [key, value] of Object.entries(b)) {
    if (known.has(key)) continue;
    const neutral = NEUTRAL[key];
    if (neutral) {
      if (value === null || value === undefined || neutral(value)) continue;
      throw new OpenAiRequestError(`'${key}' is not supported by this server`, key, 'unsupported_parameter');
    }
    throw new OpenAiRequestError(
      `Unrecognized request argument supplied: ${key.slice(0, 64)}`,
      key.slice(0, 64),
      'unknown_parameter',
    );
  }
}

function generationFields(b: Body, maxTokens: unknown, maxParam: string): OpenAiGenerationRequest {
  const n = b['n'];
  if (n !== undefined && n !== null && n !== 1) {
    throw new OpenAiRequestError('only n=1 is supported', 'n', 'unsupported_parameter');
  }
  optionalString(b, 'user', 256);
  const stream = b['stream'] ?? false;
  if (typeof stream !== 'boolean')
    throw new OpenAiRequestError('stream must be a boolean', 'stream', 'invalid_type');
  let includeUsage = false;
  const so = b['stream_options'];
  if (so !== undefined && so !== null) {
    if (!stream) {
      throw new OpenAiRequestError(
        "The 'stream_options' parameter is only allowed when 'stream' is enabled",
        'stream_options',
        'invalid_value',
      );
    }
    if (!isObject(so))
      throw new OpenAiRequestError('stream_options must be an object', 'stream_options', 'invalid_type');
    for (const k of Object.keys(so)) {
      if (k !== 'include_usage') {
        throw new OpenAiRequestError(
          `stream_options.${k.slice(0, 64)} is not supported`,
          `stream_options.${k.slice(0, 64)}`,
          'unsupported_parameter',
        );
      }
    }
    const iu = so['include_usage'] ?? false;
    if (typeof iu !== 'boolean') {
      throw new OpenAiRequestError(
        'include_usage must be a boolean',
        'stream_options.include_usage',
        'invalid_type',
      );
    }
    includeUsage = iu;
  }
  const params: GenerationParams = {
    temperature: optionalNumber(b, 'temperature', { min: 0, max: 2 }) ?? OPENAI_DEFAULT_TEMPERATURE,
  };
  const max = numberValue(maxTokens, maxParam, { min: 1, max: JobLimits.maxTokens, int: true });
  if (max !== undefined) params.max_tokens = max;
  const topP = optionalNumber(b, 'top_p', { min: 0, max: 1 });
  if (topP !== undefined) {
    if (topP === 0) throw new OpenAiRequestError('top_p must be greater than 0', 'top_p', 'invalid_value');
    params.top_p = topP;
  }
  const topK = optionalNumber(b, 'top_k', { min: 0, max: 1000, int: true });
  if (topK !== undefined) params.top_k = topK;
  const seed = optionalNumber(b, 'seed', { min: 0, max: 2 ** 32 - 1, int: true });
  if (seed !== undefined) params.seed = seed;
  const stop = parseStop(b['stop']);
  if (stop.length > 0) params.stop = stop;
  return { model: parseModel(b), params, stream, includeUsage, ...routingFields(b) };
}

function routingFields(b: Body): { priority?: Priority; routing_key?: string } {
  const out: { priority?: Priority; routing_key?: string } = {};
  const p = b['priority'];
  if (p !== undefined && p !== null) {
    if (p !== 'high' && p !== 'normal' && p !== 'low') {
      throw new OpenAiRequestError("priority must be 'high', 'normal' or 'low'", 'priority', 'invalid_value');
    }
    out.priority = p;
  }
  const rk = optionalString(b, 'routing_key', JobLimits.maxRoutingKeyChars);
  if (rk !== undefined && rk !== '') out.routing_key = rk;
  return out;
}

function parseModel(b: Body): string {
  const m = b['model'];
  if (m === undefined || m === null) {
    throw new OpenAiRequestError('you must provide a model parameter', 'model', 'missing_required_parameter');
  }
  if (typeof m !== 'string' || m.length === 0 || m.length > 128) {
    throw new OpenAiRequestError('model must be a non-empty string', 'model', 'invalid_type');
  }
  return m;
}

function parsePrompt(p: unknown): string {
  if (p === undefined || p === null) {
    throw new OpenAiRequestError('you must provide a prompt', 'prompt', 'missing_required_parameter');
  }
  let text: unknown = p;
  if (Array.isArray(p)) {
    if (p.length !== 1) {
      throw new OpenAiRequestError(
        'only one prompt per request is supported',
        'prompt',
        'unsupported_parameter',
      );
    }
    text = p[0];
  }
  if (typeof text !== 'string') {
    throw new OpenAiRequestError(
      'prompt must be a string (token arrays are not supported)',
      'prompt',
      'invalid_type',
    );
  }
  if (text.length > JobLimits.maxPromptChars) {
    throw new OpenAiRequestError(
      `prompt is longer than ${JobLimits.maxPromptChars} characters`,
      'prompt',
      'invalid_value',
    );
  }
  return text;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant']);
const MESSAGE_FIELDS = new Set(['role', 'content', 'name', 'refusal']);

function parseMessages(m: unknown): ChatMessage[] {
  if (m === undefined || m === null) {
    throw new OpenAiRequestError('you must provide messages', 'messages', 'missing_required_parameter');
  }
  if (!Array.isArray(m) || m.length === 0) {
    throw new OpenAiRequestError('messages must be a non-empty array', 'messages', 'invalid_type');
  }
  if (m.length > 1024)
    throw new OpenAiRequestError('too many messages (at most 1024)', 'messages', 'invalid_value');
  return m.map((raw, i) => {
    const at = `messages[${i}]`;
    if (!isObject(raw)) throw new OpenAiRequestError(`${at} must be an object`, at, 'invalid_type');
    for (const [k, v] of Object.entries(raw)) {
      if (!MESSAGE_FIELDS.has(k) && v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)) {
        throw new OpenAiRequestError(
          `${at}.${k.slice(0, 64)} is not supported`,
          `${at}.${k.slice(0, 64)}`,
          'unsupported_parameter',
        );
      }
    }
    const role = raw['role'];
    if (typeof role !== 'string' || !ROLES.has(role)) {
      throw new OpenAiRequestError(
        `${at}.role must be one of system, developer, user, assistant`,
        `${at}.role`,
        typeof role === 'string' ? 'unsupported_parameter' : 'invalid_value',
      );
    }
    const content = messageText(raw['content'], role, `${at}.content`);
    const name = raw['name'];
    if (name !== undefined && name !== null && typeof name !== 'string') {
      throw new OpenAiRequestError(`${at}.name must be a string`, `${at}.name`, 'invalid_type');
    }
    return { role: role as ChatMessage['role'], content, ...(typeof name === 'string' ? { name } : {}) };
  });
}

function messageText(content: unknown, role: string, param: string): string {
  if (typeof content === 'string') return content;
  if ((content === null || content === undefined) && role === 'assistant') return '';
  if (Array.isArray(content)) {
    return content
      .map((part: unknown, j) => {
        if (isObject(part) && part['type'] === 'text' && typeof part['text'] === 'string')
          return part['text'];
        throw new OpenAiRequestError(
          `${param}[${j}]: only text content parts are supported`,
          `${param}[${j}]`,
          'unsupported_parameter',
        );
      })
      .join('');
  }
  throw new OpenAiRequestError(`${param} must be a string or an array of text parts`, param, 'invalid_type');
}

function parseInput(input: unknown): string[] {
  if (input === undefined || input === null) {
    throw new OpenAiRequestError('you must provide an input', 'input', 'missing_required_parameter');
  }
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0) {
    throw new OpenAiRequestError(
      'input must be a string or a non-empty array of strings',
      'input',
      'invalid_type',
    );
  }
  if (texts.length > JobLimits.maxTexts) {
    throw new OpenAiRequestError(
      `input has more than ${JobLimits.maxTexts} entries`,
      'input',
      'invalid_value',
    );
  }
  return texts.map((t: unknown, i) => {
    if (typeof t !== 'string') {
      throw new OpenAiRequestError(
        'input must be strings (token arrays are not supported)',
        `input[${i}]`,
        'invalid_type',
      );
    }
    if (t.length === 0)
      throw new OpenAiRequestError('input must not contain empty strings', `input[${i}]`, 'invalid_value');
    if (t.length > JobLimits.maxTextChars) {
      throw new OpenAiRequestError(
        `input[${i}] is longer than ${JobLimits.maxTextChars} characters`,
        `input[${i}]`,
        'invalid_value',
      );
    }
    return t;
  });
}

function parseStop(stop: unknown): string[] {
  if (stop === undefined || stop === null) return [];
  const list = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(list))
    throw new OpenAiRequestError('stop must be a string or an array of strings', 'stop', 'invalid_type');
  if (list.length > JobLimits.maxStops) {
    throw new OpenAiRequestError(
      `stop may hold at most ${JobLimits.maxStops} sequences`,
      'stop',
      'invalid_value',
    );
  }
  return list.map((s: unknown) => {
    if (typeof s !== 'string' || s.length === 0 || s.length > JobLimits.maxStopChars) {
      throw new OpenAiRequestError(
        `stop sequences must be 1-${JobLimits.maxStopChars} characters`,
        'stop',
        'invalid_value',
      );
    }
    return s;
  });
}

function optionalNumber(
  b: Body,
  key: string,
  range: { min: number; max: number; int?: boolean },
): number | undefined {
  return numberValue(b[key], key, range);
}

function numberValue(
  v: unknown,
  param: string,
  range: { min: number; max: number; int?: boolean },
): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (range.int && !Number.isInteger(v))) {
    throw new OpenAiRequestError(
      `${param} must be ${range.int ? 'an integer' : 'a number'}`,
      param,
      'invalid_type',
    );
  }
  if (v < range.min || v > range.max) {
    throw new OpenAiRequestError(
      `${param} must be between ${range.min} and ${range.max}`,
      param,
      'invalid_value',
    );
  }
  return v;
}

function optionalString(b: Body, key: string, maxLength: number): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > maxLength) {
    throw new OpenAiRequestError(
      `${key} must be a string of at most ${maxLength} characters`,
      key,
      'invalid_type',
    );
  }
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
