import type { z } from 'zod';
import type { GenerationParams, Priority } from '@hotpath/contracts';
import { OpenAiRequestError, toOpenAiRequestError } from './openai-errors';
import {
  ChatCompletionRequestSchema,
  CompletionRequestSchema,
  DetokenizeRequestSchema,
  EmbeddingRequestSchema,
  TokenizeRequestSchema,
  type ChatMessage,
} from './openai-schemas';

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

/** Parses `body` with `schema`; a refusal is an {@link OpenAiRequestError} naming the parameter. */
function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  // The issues' inputs tell a missing field from one of the wrong type.
  const parsed = schema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw toOpenAiRequestError(parsed.error);
  return parsed.data;
}

/** What completions and chat completions share. */
type GenerationBody = Omit<z.output<typeof CompletionRequestSchema>, 'prompt'>;

/** Parses a `/v1/completions` body. */
export function parseCompletionRequest(body: unknown): CompletionRequest {
  const b = parse(CompletionRequestSchema, body);
  return { ...generationRequest(b, b.max_tokens), prompt: b.prompt };
}

/** Parses a `/v1/chat/completions` body; `max_completion_tokens` wins over `max_tokens`. */
export function parseChatRequest(body: unknown): ChatRequest {
  const b = parse(ChatCompletionRequestSchema, body);
  return { ...generationRequest(b, b.max_completion_tokens ?? b.max_tokens), messages: b.messages };
}

/** Parses a `/v1/embeddings` body. */
export function parseEmbeddingRequest(body: unknown): EmbeddingRequest {
  const b = parse(EmbeddingRequestSchema, body);
  return {
    model: b.model,
    input: b.input,
    encoding_format: b.encoding_format ?? 'float',
    ...routing(b),
  };
}

/** Parses a `/tokenize` body: exactly one of `prompt` and `messages`. */
export function parseTokenizeRequest(body: unknown): TokenizeRequest {
  const b = parse(TokenizeRequestSchema, body);
  const hasPrompt = b.prompt !== undefined && b.prompt !== null;
  const hasMessages = b.messages !== undefined && b.messages !== null;
  if (hasPrompt === hasMessages) {
    throw new OpenAiRequestError('provide exactly one of prompt and messages', 'prompt', 'invalid_value');
  }
  return {
    model: b.model,
    ...(b.prompt != null ? { prompt: b.prompt } : {}),
    ...(b.messages != null ? { messages: b.messages } : {}),
    add_special_tokens: b.add_special_tokens ?? true,
    return_token_strs: b.return_token_strs ?? false,
  };
}

/** Parses a `/detokenize` body: `tokens` is a list of non-negative integers. */
export function parseDetokenizeRequest(body: unknown): DetokenizeRequest {
  const b = parse(DetokenizeRequestSchema, body);
  return { model: b.model, tokens: b.tokens };
}

/** The native generation request of a parsed completion or chat body. */
function generationRequest(b: GenerationBody, maxTokens: number | null | undefined): OpenAiGenerationRequest {
  const stream = b.stream ?? false;
  if (b.stream_options != null && !stream) {
    throw new OpenAiRequestError(
      "The 'stream_options' parameter is only allowed when 'stream' is enabled",
      'stream_options',
      'invalid_value',
    );
  }
  const params: GenerationParams = { temperature: b.temperature ?? OPENAI_DEFAULT_TEMPERATURE };
  if (maxTokens != null) params.max_tokens = maxTokens;
  if (b.top_p != null) params.top_p = b.top_p;
  if (b.top_k != null) params.top_k = b.top_k;
  if (b.seed != null) params.seed = b.seed;
  if (b.stop != null && b.stop.length > 0) params.stop = b.stop;
  return {
    model: b.model,
    params,
    stream,
    includeUsage: b.stream_options?.include_usage ?? false,
    ...routing(b),
  };
}

function routing(b: { priority?: Priority | null; routing_key?: string | null }): {
  priority?: Priority;
  routing_key?: string;
} {
  return {
    ...(b.priority != null ? { priority: b.priority } : {}),
    ...(b.routing_key ? { routing_key: b.routing_key } : {}),
  };
}
