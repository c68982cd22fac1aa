import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, HotpathError, type ModelConfig } from '@hotpath/contracts';
import { TextTokenizer } from '@hotpath/tokenizer';

/** A model's tokenizer and context length, as the API reads them from the model folder. */
export interface ModelTokenizer {
  tokenizer: TextTokenizer;
  /** `config.json`'s context length (max_position_embeddings, n_positions, …), else the tokenizer's. */
  maxModelLen: number | null;
}

const CONTEXT_KEYS = ['max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length', 'n_ctx'];

/** `config.json`'s context length, or null when the folder has none this process can read. */
export async function readContextLength(dir: string): Promise<number | null> {
  try {
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    for (const k of CONTEXT_KEYS) {
      const v = cfg[k];
      if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    }
  } catch {
    // Unreadable here (another machine's path, or not forged yet): no length to report.
  }
  return null;
}

/**
 * The tokenizers of `onnx` models for `/tokenize` and `/detokenize`. The API never loads models:
 * it reads only `tokenizer.json` (+ `tokenizer_config.json`, `config.json`) of `model.path`, once
 * per model, so this process needs read access to the folders it answers for.
 */
export class ModelTokenizers {
  private readonly loaded = new Map<string, Promise<ModelTokenizer>>();

  forModel(model: ModelConfig): Promise<ModelTokenizer> {
    const dir = model.path;
    if (model.backend !== 'onnx' || !dir) {
      return Promise.reject(
        new HotpathError(
          ErrorCode.InvalidRequest,
          `model "${model.name}" (backend ${model.backend}) has no tokenizer`,
          'model',
        ),
      );
    }
    let entry = this.loaded.get(model.name);
    if (!entry) {
      entry = this.read(model.name, dir);
      // A folder that was not there yet (a worker forges it on first start) is read again next time.
      entry.catch(() => this.loaded.delete(model.name));
      this.loaded.set(model.name, entry);
    }
    return entry;
  }

  private async read(name: string, dir: string): Promise<ModelTokenizer> {
    let json: unknown;
    let config: Record<string, unknown> = {};
    try {
      json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    } catch (err) {
      throw new HotpathError(
        ErrorCode.InvalidModel,
        `model "${name}": cannot read ${join(dir, 'tokenizer.json')} (${(err as Error).message})`,
      );
    }
    try {
      config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<
        string,
        unknown
      >;
    } catch {
      // tokenizer_config.json is optional.
    }
    let tokenizer: TextTokenizer;
    try {
      tokenizer = TextTokenizer.fromJson(json, config);
    } catch (err) {
      throw new HotpathError(
        ErrorCode.InvalidModel,
        `model "${name}": tokenizer.json is not a usable tokenizer (${(err as Error).message})`,
      );
    }
    return { tokenizer, maxModelLen: (await readContextLength(dir)) ?? tokenizer.maxLength ?? null };
  }
}
