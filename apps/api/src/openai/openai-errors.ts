import type { z } from 'zod';
import { ErrorCode, HotpathError } from '@hotpath/contracts';

/** OpenAI's `code` values for request problems. */
export type OpenAiCode =
  | 'unsupported_parameter'
  | 'unknown_parameter'
  | 'invalid_value'
  | 'invalid_type'
  | 'missing_required_parameter';

/** A 400 on an OpenAI route naming the parameter and carrying OpenAI's `code`. */
export class OpenAiRequestError extends HotpathError {
  constructor(
    message: string,
    param: string,
    readonly openAiCode: OpenAiCode,
  ) {
    super(ErrorCode.InvalidRequest, message, param);
  }
}

/** Placeholder for the offending field's name in an issue message (`{param} must be a string`). */
export const PARAM = '{param}';

/** OpenAI's spelling of a field path: `messages[0].content[1]`, `stream_options.include_usage`. */
export function openAiParam(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/**
 * OpenAI's code for a zod issue: a custom issue says it (`params.openai`); a missing field is
 * `missing_required_parameter`, a wrong JSON type `invalid_type`, an unknown field
 * `unknown_parameter` (inside an object OpenAI defines, such as `stream_options`:
 * `unsupported_parameter`), and anything out of range or not allowed `invalid_value`.
 */
function openAiCodeOf(issue: z.core.$ZodIssue): OpenAiCode {
  switch (issue.code) {
    case 'custom':
      return (issue.params?.['openai'] as OpenAiCode | undefined) ?? 'invalid_value';
    case 'unrecognized_keys':
      return issue.path.length === 0 ? 'unknown_parameter' : 'unsupported_parameter';
    case 'invalid_type':
      return issue.path.length > 0 && (issue.input === undefined || issue.input === null)
        ? 'missing_required_parameter'
        : 'invalid_type';
    case 'invalid_union':
      return 'invalid_type';
    default:
      return 'invalid_value';
  }
}

/** Field-level refusals (what Hotpath does not implement, unknown fields) are reported first. */
const FIRST: ReadonlySet<OpenAiCode> = new Set(['unknown_parameter', 'unsupported_parameter']);

/**
 * The error of a refused OpenAI request body: the first problem, in OpenAI's shape (`param` names
 * the field, `code` is OpenAI's). Needs issues parsed with `reportInput: true`.
 */
export function toOpenAiRequestError(error: z.ZodError): OpenAiRequestError {
  const issues = error.issues.map((issue) => ({ issue, code: openAiCodeOf(issue) }));
  const { issue, code } = issues.find((i) => FIRST.has(i.code)) ??
    issues[0] ?? {
      issue: undefined,
      code: 'invalid_value' as const,
    };
  if (!issue) return new OpenAiRequestError('invalid request', 'body', code);
  if (issue.code === 'unrecognized_keys') {
    const param = openAiParam([...issue.path, (issue.keys[0] ?? '').slice(0, 64)]);
    return issue.path.length === 0
      ? new OpenAiRequestError(`Unrecognized request argument supplied: ${param}`, param, code)
      : new OpenAiRequestError(`${param} is not supported`, param, code);
  }
  const param = issue.path.length === 0 ? 'body' : openAiParam(issue.path);
  return new OpenAiRequestError(issue.message.replaceAll(PARAM, param), param, code);
}
