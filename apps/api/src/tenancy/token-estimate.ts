import type { JobRequest, ModelConfig } from '@hotpath/contracts';

/** Bytes per token assumed when estimating a request's tokens before it is tokenized. */
export const BYTES_PER_TOKEN = 4;

const tokensOf = (text: string): number => Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN);

/**
 * What a request charges to the tenant's tokens/min bucket when it is accepted, as OpenAI counts
 * it: the estimated prompt tokens plus the most it may generate (`max_tokens`, or the model's
 * default); for embeddings the estimated input tokens. Nothing is refunded when a job uses fewer.
 */
export function estimateRequestTokens(req: JobRequest, model: ModelConfig): number {
  if (req.task === 'embed')
    return Math.max(
      1,
      req.input.texts.reduce((n, t) => n + tokensOf(t), 0),
    );
  return tokensOf(req.input.prompt) + (req.params.max_tokens ?? model.default_max_tokens);
}
