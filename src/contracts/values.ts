/** Value shapes several requests share: form posts and query strings send every value as text. */
import { z } from 'zod';

// Date.now() sent by mistake would select nothing without a word; seconds stay below 1e11 until the year 5138.
const MILLIS = 'looks like milliseconds; give Unix seconds';

/** Unix seconds as a JSON integer or a string of digits. */
export const unixSeconds = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d{1,15}$/, 'must be an integer (Unix seconds)')
      .transform(Number),
  ])
  .pipe(z.number().int('must be an integer (Unix seconds)').min(0, 'must be 0 or more').max(99_999_999_999, MILLIS));

/** true/false as JSON or as form text. */
export const flag = z.union([z.boolean(), z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true')]);

/** true/false as form text only (multipart fields). */
export const textFlag = z.enum(['true', 'false'], { error: 'must be true or false' });

/** One character separating CSV cells. */
export const csvDelimiter = z
  .string()
  .regex(/^[\x20-\x7e\t]$/, 'must be one printable ASCII character or a tab')
  .refine((c) => c !== '"', 'cannot be a quote (")');
