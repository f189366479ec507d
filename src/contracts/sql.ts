/** `POST /sql`: one of CnosDB's `COPY INTO` statements. */
import { z } from 'zod';
import { MAX_STATEMENT_LENGTH } from '../sql/index.js';

export const SqlRequestSchema = z.object({
  sql: z
    .string({ error: 'must be a COPY INTO statement (a string)' })
    .min(1, 'must be a COPY INTO statement')
    .max(MAX_STATEMENT_LENGTH, `must be at most ${MAX_STATEMENT_LENGTH} characters`)
    .describe("One `COPY INTO` statement (CnosDB's syntax)"),
});
export type SqlRequest = z.infer<typeof SqlRequestSchema>;
