import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The compiled entry of a Hotpath app (`api` or `worker`): `<package>/dist/main.js`, found through
 * the workspace package `@hotpath/<app>` or, failing that, in the monorepo's `apps/` folder.
 * Undefined when it has not been built.
 */
export function appEntry(app: 'api' | 'worker'): string | undefined {
  const candidates: string[] = [];
  try {
    candidates.push(join(dirname(require.resolve(`@hotpath/${app}/package.json`)), 'dist', 'main.js'));
  } catch {
    // not linked as a workspace package; try the monorepo layout
  }
  // This file is libs/process-kit/dist/app-entry.js.
  candidates.push(join(__dirname, '..', '..', '..', 'apps', app, 'dist', 'main.js'));
  return candidates.find((p) => existsSync(p));
}
