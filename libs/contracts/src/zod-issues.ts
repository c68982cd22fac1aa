import type { z } from 'zod';

/** A zod issue path as a dotted field name (`params.max_tokens`, `jobs.3.input`). */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

/** One line per issue, `field: message`, for config and env errors that must list every bad key. */
export function formatIssues(error: z.ZodError, root = ''): string {
  return error.issues
    .map((i) => {
      const p = issuePath(i.path);
      const name = [root, p].filter(Boolean).join('.');
      return `  - ${name || '(root)'}: ${i.message}`;
    })
    .join('\n');
}
