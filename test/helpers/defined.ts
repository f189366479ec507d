import assert from 'node:assert/strict';

/**
 * The value, or a failed test naming what was missing: instead of a non-null assertion (`x!`), which
 * would let an absent value surface later as an unrelated TypeError or pass on as `undefined`.
 */
export function defined<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) assert.fail(`${what} is missing`);
  return value;
}
