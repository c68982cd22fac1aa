import type { EmbedResult, GenerateResult, JobView, Usage } from '@hotpath/contracts';

/** Which OpenAI object family a generation answers with. */
export type GenerationKind = 'completion' | 'chat';

/** What every response and chunk of one request shares. */
export interface ResponseMeta {
  kind: GenerationKind;
  /** Hotpath job id; the OpenAI id is `cmpl-<job id>` / `chatcmpl-<job id>`. */
  jobId: string;
  /** Unix seconds. */
  created: number;
  model: string;
  /** Model version digest; `null` before any worker published one. */
  fingerprint: string | null;
}

/** OpenAI's usage block; `cached_tokens` are prompt tokens served from the replica's prefix KV cache. */
export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function openAiId(meta: Pick<ResponseMeta, 'kind' | 'jobId'>): string {
  return `${meta.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${meta.jobId}`;
}

/** `stop` | `length`: Hotpath's reasons map one to one; anything else reads as `stop`. */
export function finishReason(reason: GenerateResult['finish_reason'] | undefined): 'stop' | 'length' {
  return reason === 'length' ? 'length' : 'stop';
}

export function openAiUsage(u: Usage | null): OpenAiUsage {
  const prompt = u?.prompt_tokens ?? 0;
  const completion = u?.completion_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: u?.cached_tokens ?? 0 },
  };
}

/** The non-streaming answer of a completed generation job. */
export function generationResponse(meta: ResponseMeta, view: JobView): Record<string, unknown> {
  const result = view.result as GenerateResult | null;
  const text = result?.text ?? '';
  const finish = finishReason(result?.finish_reason);
  const choice =
    meta.kind === 'chat'
      ? {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null },
          logprobs: null,
          finish_reason: finish,
        }
      : { index: 0, text, logprobs: null, finish_reason: finish };
  return {
    id: openAiId(meta),
    object: meta.kind === 'chat' ? 'chat.completion' : 'text_completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: meta.fingerprint,
    choices: [choice],
    usage: openAiUsage(view.usage),
  };
}

/**
 * Builds the chunks of one streamed generation: `chat.completion.chunk` (first delta carries the
 * role) or `text_completion`; with `include_usage`, every chunk has `usage: null` and a last chunk
 * with no choices carries the usage.
 */
export class ChunkBuilder {
  private roleSent = false;

  constructor(
    private readonly meta: ResponseMeta,
    private readonly includeUsage: boolean,
  ) {}

  /** A content chunk. */
  text(text: string): Record<string, unknown> {
    return this.chunk(this.choice(text, null));
  }

  /** The chunk carrying `finish_reason` (empty content). */
  finish(reason: 'stop' | 'length'): Record<string, unknown> {
    return this.chunk(this.choice('', reason));
  }

  /** The final usage chunk (only with `include_usage`). */
  usage(u: Usage | null): Record<string, unknown> {
    return { ...this.base(), choices: [], usage: openAiUsage(u) };
  }

  private choice(text: string, finish: 'stop' | 'length' | null): Record<string, unknown> {
    if (this.meta.kind === 'completion') return { index: 0, text, logprobs: null, finish_reason: finish };
    const delta: Record<string, unknown> = {};
    if (!this.roleSent) {
      delta['role'] = 'assistant';
      this.roleSent = true;
    }
    if (text !== '' || finish === null) delta['content'] = text;
    return { index: 0, delta, logprobs: null, finish_reason: finish };
  }

  private chunk(choice: Record<string, unknown>): Record<string, unknown> {
    return { ...this.base(), choices: [choice], ...(this.includeUsage ? { usage: null } : {}) };
  }

  private base(): Record<string, unknown> {
    return {
      id: openAiId(this.meta),
      object: this.meta.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion',
      created: this.meta.created,
      model: this.meta.model,
      system_fingerprint: this.meta.fingerprint,
    };
  }
}

/** Little-endian float32 bytes, base64: OpenAI's `encoding_format: "base64"`. */
export function float32Base64(values: readonly number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

/** The answer of a completed embedding job. */
export function embeddingResponse(
  model: string,
  view: JobView,
  format: 'float' | 'base64',
): Record<string, unknown> {
  const result = view.result as EmbedResult | null;
  const embeddings = result?.embeddings ?? [];
  const prompt = view.usage?.prompt_tokens ?? 0;
  return {
    object: 'list',
    // Not in OpenAI's schema (SDKs ignore it): which inputs were cut to the model's context.
    ...(result?.truncated ? { truncated: result.truncated } : {}),
    data: embeddings.map((e, index) => ({
      object: 'embedding',
      index,
      embedding: format === 'base64' ? float32Base64(e) : e,
    })),
    model,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  };
}
