import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ErrorCode, isErrorCode, toErrorCode } from './error-codes';

describe('isErrorCode', () => {
  it('accepts every domain code and nothing else', () => {
    for (const code of Object.values(ErrorCode)) assert.ok(isErrorCode(code), code);
    for (const other of ['ENOENT', 'InvalidInput', '', undefined, null, 42, {}]) {
      assert.equal(isErrorCode(other), false, String(other));
    }
  });

  it('falls back for what is not a domain code', () => {
    assert.equal(toErrorCode('invalid_input', ErrorCode.InferenceFailed), ErrorCode.InvalidInput);
    assert.equal(
      toErrorCode('ERR_WORKER_OUT_OF_MEMORY', ErrorCode.InferenceFailed),
      ErrorCode.InferenceFailed,
    );
    assert.equal(toErrorCode(undefined, ErrorCode.Internal), ErrorCode.Internal);
  });
});
