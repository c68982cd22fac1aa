import type { RedisClient } from './redis-connection';

/** Redis key of a model's input limits, next to its digest and chat template. */
export function inputLimitsKey(model: string): string {
  return `hp:model:{m:${model}}:input_limits`;
}

/** What the API needs to refuse a prompt that cannot fit a model, without loading its tokenizer. */
export interface ModelInputLimits {
  /** Tokens the model can attend to (`max_position_embeddings`). */
  context_tokens: number;
  /** UTF-8 bytes of the longest vocabulary piece: no token covers more of the input. */
  max_piece_bytes: number;
  /** Tokens added before the text (a BOS). */
  added_tokens: number;
}

/**
 * The fewest tokens `text` can encode to: no token covers more than `max_piece_bytes` bytes (4 at
 * least, so an unknown-character token is covered too). A cheap, exact-enough bound to refuse
 * input that can never fit before anything tokenizes it.
 */
export function minTokens(text: string, limits: ModelInputLimits): number {
  const perToken = Math.max(4, limits.max_piece_bytes);
  return limits.added_tokens + Math.ceil(Buffer.byteLength(text, 'utf8') / perToken);
}

/** Parses stored limits; `undefined` for anything malformed. */
function parseLimits(raw: string | null): ModelInputLimits | undefined {
  if (raw === null) return undefined;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    const n = (k: string): number | undefined =>
      typeof v[k] === 'number' && Number.isInteger(v[k]) && (v[k] as number) >= 0
        ? (v[k] as number)
        : undefined;
    const context = n('context_tokens');
    const piece = n('max_piece_bytes');
    if (context === undefined || piece === undefined || context < 1) return undefined;
    return { context_tokens: context, max_piece_bytes: piece, added_tokens: n('added_tokens') ?? 0 };
  } catch {
    return undefined;
  }
}

/**
 * Input limits of served models, published by workers (from the model folder they serve) and read
 * by the API, which never loads models. A short local memo keeps the lookup off the hot path.
 */
export class ModelInputLimitsStore {
  private readonly memo = new Map<string, { limits: Promise<ModelInputLimits | undefined>; at: number }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly memoMs = 5000,
  ) {}

  async publish(model: string, limits: ModelInputLimits): Promise<void> {
    await this.redis.set(inputLimitsKey(model), JSON.stringify(limits));
    this.memo.set(model, { limits: Promise.resolve(limits), at: Date.now() });
  }

  /**
   * The published limits; `undefined` when no worker has published any for `model`. Concurrent
   * calls share one read; a failed read is not remembered.
   */
  current(model: string): Promise<ModelInputLimits | undefined> {
    const m = this.memo.get(model);
    if (m && Date.now() - m.at < this.memoMs) return m.limits;
    const limits = this.redis.get(inputLimitsKey(model)).then(parseLimits);
    this.memo.set(model, { limits, at: Date.now() });
    limits.catch(() => this.memo.delete(model));
    return limits;
  }
}
