import { strict as assert } from 'node:assert';
import { HotpathError } from '@hotpath/contracts';

/** The HotpathError `fn` throws; fails the test when it throws nothing or something else. */
export function errorOf(fn: () => unknown): HotpathError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HotpathError);
    return err;
  }
  assert.fail('expected an error');
}
