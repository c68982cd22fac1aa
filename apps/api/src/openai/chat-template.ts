import type { Template } from '@huggingface/jinja' with { 'resolution-mode': 'import' };
import { JobLimits } from '@hotpath/contracts';
import type { ChatTemplateInfo } from '@hotpath/queue';
import { OpenAiRequestError } from './openai-errors';
import type { ChatMessage } from './openai-schemas';

/**
 * The template for models without a `chat_template` (documented in docs/openai.md):
 *
 * ```
 * <|system|>
 * You are helpful.
 * <|user|>
 * Hello
 * <|assistant|>
 * ```
 * One `<|role|>` line and the content per message, then `<|assistant|>` and a newline to prompt
 * the reply. `developer` messages render as `system`.
 */
export const DEFAULT_CHAT_TEMPLATE =
  '{% for message in messages %}<|{{ message.role }}|>\n{{ message.content }}\n{% endfor %}' +
  '{% if add_generation_prompt %}<|assistant|>\n{% endif %}';

/** Compiled templates are kept: a model's template is parsed once per process. */
const MAX_COMPILED = 64;

type Jinja = typeof import('@huggingface/jinja', { with: { 'resolution-mode': 'import' } });
let jinja: Promise<Jinja> | undefined;

/** `@huggingface/jinja` is an ES module; this CommonJS build loads it with a dynamic import, once. */
function loadJinja(): Promise<Jinja> {
  jinja ??= import('@huggingface/jinja');
  return jinja;
}

/**
 * Renders chat messages into one prompt with a model's Jinja chat template (Hugging Face
 * `apply_chat_template` semantics: `messages`, `add_generation_prompt: true`, `bos_token`,
 * `eos_token`, `raise_exception`). The model's tokenizer adds BOS itself, so a BOS the template
 * writes at the very start is removed (no double BOS).
 */
export class ChatTemplateRenderer {
  private readonly compiled = new Map<string, Template>();

  async render(info: ChatTemplateInfo, messages: readonly ChatMessage[]): Promise<string> {
    const source = info.template ?? DEFAULT_CHAT_TEMPLATE;
    const template = this.compile(await loadJinja(), source, info.template !== null);
    let text: string;
    try {
      text = template.render({
        messages: messages.map((m) => ({
          role: info.template === null && m.role === 'developer' ? 'system' : m.role,
          content: m.content,
          ...(m.name !== undefined ? { name: m.name } : {}),
        })),
        add_generation_prompt: true,
        bos_token: info.bos_token,
        eos_token: info.eos_token,
      });
    } catch (err) {
      // Templates reject conversations they cannot express (e.g. "roles must alternate").
      throw new OpenAiRequestError(
        `the model's chat template refused these messages: ${(err as Error).message}`,
        'messages',
        'invalid_value',
      );
    }
    if (info.bos_token !== '' && text.startsWith(info.bos_token)) text = text.slice(info.bos_token.length);
    if (text.length > JobLimits.maxPromptChars) {
      throw new OpenAiRequestError(
        `the rendered conversation is longer than ${JobLimits.maxPromptChars} characters`,
        'messages',
        'invalid_value',
      );
    }
    return text;
  }

  private compile(lib: Jinja, source: string, fromModel: boolean): Template {
    let t = this.compiled.get(source);
    if (t) return t;
    try {
      t = new lib.Template(source);
    } catch (err) {
      // A broken template is the model folder's fault, not the client's.
      throw new Error(
        `${fromModel ? "the model's" : 'the default'} chat template does not parse: ${(err as Error).message}`,
      );
    }
    if (this.compiled.size >= MAX_COMPILED) this.compiled.clear();
    this.compiled.set(source, t);
    return t;
  }
}
