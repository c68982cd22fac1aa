import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from '@hotpath/contracts';
import { chatTemplateFromTokenizerConfig, type ModelChatTemplates } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';

/**
 * Publishes the chat template (and special tokens) of each served model that has a folder, read
 * from its `tokenizer_config.json` after the backend loaded (or forged) it, so the API, which never
 * loads models, renders chat prompts the model was trained on. A model without a readable file
 * publishes nothing; the API then tries the folder itself, else uses its default template.
 */
export async function publishChatTemplates(
  models: Iterable<ModelConfig>,
  templates: ModelChatTemplates,
  logger: Logger,
): Promise<void> {
  for (const m of models) {
    if (!m.path) continue;
    let text: string;
    try {
      text = await readFile(join(m.path, 'tokenizer_config.json'), 'utf8');
    } catch {
      continue;
    }
    try {
      await templates.publish(m.name, chatTemplateFromTokenizerConfig(JSON.parse(text)));
    } catch (err) {
      logger.warn('could not publish the chat template', { model: m.name, error: err });
    }
  }
}
