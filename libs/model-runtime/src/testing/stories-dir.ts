import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { importLlama2c } from '../llama2c/import-llama2c';

/** Repo root, from this compiled file (`libs/model-runtime/dist/testing`). */
export const REPO_ROOT = resolve(__dirname, '../../../..');

/**
 * Folder holding stories260K.bin + tok512.bin: `HOTPATH_STORIES260K_DIR`, else the repo-relative
 * `../shared/models/stories260K`. Undefined when the files are not there (tests skip).
 */
export function stories260kDir(): string | undefined {
  const dir = process.env.HOTPATH_STORIES260K_DIR ?? resolve(REPO_ROOT, '../shared/models/stories260K');
  return existsSync(join(dir, 'stories260K.bin')) && existsSync(join(dir, 'tok512.bin')) ? dir : undefined;
}

/**
 * Imports stories260K (from {@link stories260kDir}) as a model folder at `out`; returns `out`, or
 * undefined when the files are not there (tests skip).
 */
export function importStories260k(out: string): string | undefined {
  const src = stories260kDir();
  if (!src) return undefined;
  importLlama2c({ checkpoint: join(src, 'stories260K.bin'), tokenizer: join(src, 'tok512.bin'), out });
  return out;
}
