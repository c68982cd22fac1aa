import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from '@hotpath/contracts';
import {
  chatTemplateFromTokenizerConfig,
  type ChatTemplateInfo,
  type ModelChatTemplates,
} from '@hotpath/queue';

/** Where a model's chat template came from. */
export type ChatTemplateOrigin = 'worker' | 'model-folder' | 'default';

const NO_TEMPLATE: ChatTemplateInfo = { template: null, bos_token: '', eos_token: '' };
const FILE_MEMO_MS = 30_000;

/**
 * Finds a model's chat template. The API never loads models, so: first what a worker serving the
 * model published in Redis (read from the folder it loaded); else the model folder's
 * `tokenizer_config.json` when this process can read `model.path`; else none, and the renderer
 * uses its default template.
 */
export class ChatTemplateSource {
  private readonly files = new Map<string, { info: ChatTemplateInfo | undefined; at: number }>();

  constructor(private readonly published: ModelChatTemplates) {}

  async forModel(model: ModelConfig): Promise<{ info: ChatTemplateInfo; origin: ChatTemplateOrigin }> {
    const fromWorker = await this.published.current(model.name).catch(() => undefined);
    if (fromWorker?.template) return { info: fromWorker, origin: 'worker' };
    const fromFile = model.path ? await this.readFolder(model.path) : undefined;
    if (fromFile?.template) return { info: fromFile, origin: 'model-folder' };
    return { info: fromWorker ?? fromFile ?? NO_TEMPLATE, origin: 'default' };
  }

  private async readFolder(dir: string): Promise<ChatTemplateInfo | undefined> {
    const memo = this.files.get(dir);
    if (memo && Date.now() - memo.at < FILE_MEMO_MS) return memo.info;
    let info: ChatTemplateInfo | undefined;
    try {
      info = chatTemplateFromTokenizerConfig(
        JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')),
      );
    } catch {
      info = undefined;
    }
    this.files.set(dir, { info, at: Date.now() });
    return info;
  }
}
