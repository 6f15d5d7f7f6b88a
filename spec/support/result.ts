// Assertions on the Result type of the SIP body parsers.
import assert from 'node:assert/strict';
import type { Result } from '../../src/sip/bodies/index.js';

/** The value of an ok result; fails the test otherwise. */
export function value<T>(r: Result<T>): T {
  if (!r.ok) assert.fail(`expected ok, got error: ${r.error}`);
  return r.value;
}

/** The error of a failed result, optionally matched against a pattern; fails the test otherwise. */
export function error<T>(r: Result<T>, pattern?: RegExp): string {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.value)}`);
  if (pattern) assert.match(r.error, pattern);
  return r.error;
}
