import type { z } from 'zod';
import { ErrorCode, HotpathError, issuePath } from '@hotpath/contracts';

const MAX_LISTED_ISSUES = 5;

/** The dotted field an issue is about; for unknown keys, the first unknown key itself. */
function issueParam(issue: z.core.$ZodIssue): string {
  const path: PropertyKey[] = [...issue.path];
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  return issuePath(path);
}

/**
 * Turns a zod failure into a 400 `invalid_request`: `param` is the first bad field as a dotted
 * path (`params.max_tokens`), the message lists the problems (`params.max_tokens: Too small ...`).
 */
export function toValidationError(error: z.ZodError, prefix = ''): HotpathError {
  const issues = error.issues.slice(0, MAX_LISTED_ISSUES).map((i) => {
    const p = [prefix, issueParam(i)].filter(Boolean).join('.');
    return { param: p, text: p ? `${p}: ${i.message}` : i.message };
  });
  const more = error.issues.length - issues.length;
  const message = issues.map((i) => i.text).join('; ') + (more > 0 ? ` (and ${more} more)` : '');
  const first = issues[0]?.param;
  return new HotpathError(ErrorCode.InvalidRequest, message, first === '' ? undefined : first);
}

/** Parses `value` with `schema`, throwing {@link toValidationError} on failure. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw toValidationError(parsed.error, prefix);
  return parsed.data;
}
