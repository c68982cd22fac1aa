import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from '@hotpath/contracts';
import { TextTokenizer } from '@hotpath/tokenizer';
import type { ModelInputLimits, ModelInputLimitsStore } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';

/**
 * The input limits of a model folder: its context (`config.json` `max_position_embeddings`) and
 * the longest piece of its tokenizer; `undefined` when the folder has neither.
 */
export async function readInputLimits(dir: string): Promise<ModelInputLimits | undefined> {
  let context: unknown;
  try {
    context = (JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>)[
      'max_position_embeddings'
    ];
  } catch {
    return undefined;
  }
  if (typeof context !== 'number' || !Number.isInteger(context) || context < 1) return undefined;
  let tokenizer: TextTokenizer;
  try {
    tokenizer = TextTokenizer.fromFile(join(dir, 'tokenizer.json'));
  } catch {
    return undefined;
  }
  let longest = 1;
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    if (tokenizer.isSpecial(id)) continue;
    // A byte-fallback piece decodes alone to U+FFFD (3 bytes for 1): an overestimate only ever
    // weakens the API's bound (fewer tokens assumed per byte), never refuses a prompt that fits.
    longest = Math.max(longest, Buffer.byteLength(tokenizer.decode([id])));
  }
  return {
    context_tokens: context,
    max_piece_bytes: longest,
    added_tokens: tokenizer.bosId === undefined ? 0 : 1,
  };
}

/**
 * Publishes the input limits of each served model that has a folder, so the API refuses a prompt
 * that cannot fit before it is queued (the worker still counts tokens exactly).
 */
export async function publishInputLimits(
  models: Iterable<ModelConfig>,
  store: ModelInputLimitsStore,
  logger: Logger,
): Promise<void> {
  for (const m of models) {
    if (!m.path) continue;
    try {
      const limits = await readInputLimits(m.path);
      if (limits) await store.publish(m.name, limits);
    } catch (err) {
      logger.warn('could not publish the input limits', { model: m.name, error: err });
    }
  }
}
