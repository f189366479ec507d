import { InvalidArgumentError } from './errors.js';

/** A point in time as the SDK accepts it: Unix seconds, a `Date`, or an ISO 8601 string. */
export type TimeInput = number | Date | string;

/**
 * Converts a time to whole Unix seconds. `round` says which way a fraction of a second goes: an
 * inclusive start rounds down and an exclusive end rounds up, so no row inside the range is lost.
 */
export function toUnixSeconds(value: TimeInput, round: 'floor' | 'ceil', name = 'time'): number {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else if (value instanceof Date) {
    seconds = value.getTime() / 1000;
  } else if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) {
    seconds = Number(value);
  } else if (typeof value === 'string') {
    seconds = Date.parse(value) / 1000;
  } else {
    throw new InvalidArgumentError(`${name} must be Unix seconds, a Date or an ISO 8601 string.`);
  }
  if (!Number.isFinite(seconds)) {
    throw new InvalidArgumentError(`${name} is not a valid time: ${String(value)}.`);
  }
  // Date.now() passed by mistake would select nothing without a word; seconds stay below 1e11 until the year 5138.
  if (Math.abs(seconds) >= 1e11) {
    throw new InvalidArgumentError(`${name} looks like milliseconds (${String(value)}); give Unix seconds.`);
  }
  // The server counts from 1970 as well: refused here, a bad value is the caller's before any request.
  if (seconds < 0) throw new InvalidArgumentError(`${name} is before 1970 (${String(value)}); give Unix seconds of 0 or more.`);
  return round === 'floor' ? Math.floor(seconds) : Math.ceil(seconds);
}
