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
