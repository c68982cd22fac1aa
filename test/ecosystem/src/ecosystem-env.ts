import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Repository root, from this compiled file (`test/ecosystem/dist/`). */
export const REPO_ROOT = resolve(__dirname, '../../..');

/** The built `hotpath` CLI (`tsc -b test/ecosystem` builds it through the project reference). */
export const CLI_MAIN = join(REPO_ROOT, 'apps/cli/dist/main.js');

/**
 * Folder holding stories260K.bin + tok512.bin: `HOTPATH_STORIES260K_DIR`, else the repo-relative
 * `../shared/models/stories260K`. Undefined when the files are not there (the tests skip).
 */
export function stories260kDir(): string | undefined {
  const dir = process.env.HOTPATH_STORIES260K_DIR ?? resolve(REPO_ROOT, '../shared/models/stories260K');
  return existsSync(join(dir, 'stories260K.bin')) && existsSync(join(dir, 'tok512.bin')) ? dir : undefined;
}
