import type { RedisClient } from './redis-connection';

/** Redis key of a model's chat template, next to its version digest (`hp:model:{m:<model>}:digest`). */
export function chatTemplateKey(model: string): string {
  return `hp:model:{m:${model}}:chat_template`;
}

/** What rendering a model's chat prompt needs from its `tokenizer_config.json`. */
export interface ChatTemplateInfo {
  /** The Jinja `chat_template`; `null` when the model has none. */
  template: string | null;
  bos_token: string;
  eos_token: string;
}

/**
 * Reads the chat template of a parsed `tokenizer_config.json`: `chat_template` as a string, or the
 * `default` entry (else the first) of its list form `[{name, template}]`; special tokens as strings
 * or `{content}` objects.
 */
export function chatTemplateFromTokenizerConfig(json: unknown): ChatTemplateInfo {
  const cfg = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  let template: string | null = null;
  const t = cfg['chat_template'];
  if (typeof t === 'string' && t.length > 0) template = t;
  else if (Array.isArray(t)) {
    const named = t.filter(
      (e): e is { name: string; template: string } =>
        typeof e === 'object' && e !== null && typeof e.name === 'string' && typeof e.template === 'string',
    );
    template = (named.find((e) => e.name === 'default') ?? named[0])?.template ?? null;
  }
  return { template, bos_token: tokenText(cfg['bos_token']), eos_token: tokenText(cfg['eos_token']) };
}

function tokenText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return '';
}

/**
 * Chat templates of served models, published by workers (which read the model folder's
 * `tokenizer_config.json` after loading or forging it) and read by the API, which never loads
 * models. A short local memo keeps the lookup off the hot path.
 */
export class ModelChatTemplates {
  private readonly memo = new Map<string, { info: ChatTemplateInfo | undefined; at: number }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly memoMs = 5000,
  ) {}

  async publish(model: string, info: ChatTemplateInfo): Promise<void> {
    await this.redis.set(chatTemplateKey(model), JSON.stringify(info));
    this.memo.set(model, { info, at: Date.now() });
  }

  /** The published info; `undefined` when no worker has published any for `model`. */
  async current(model: string): Promise<ChatTemplateInfo | undefined> {
    const m = this.memo.get(model);
    if (m && Date.now() - m.at < this.memoMs) return m.info;
    const raw = await this.redis.get(chatTemplateKey(model));
    let info: ChatTemplateInfo | undefined;
    if (raw !== null) {
      try {
        const stored = JSON.parse(raw) as Record<string, unknown>;
        info = chatTemplateFromTokenizerConfig({ ...stored, chat_template: stored['template'] });
      } catch {
        info = undefined;
      }
    }
    this.memo.set(model, { info, at: Date.now() });
    return info;
  }
}
