/** Schema inference names the file's column when the column cannot be a field, never an API parameter. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { InvalidFileError } from '../../../src/errors.js';
import { inferSchema, sampleFile } from '../../../src/formats/index.js';

const IMPALA = fileURLToPath(new URL('../../fixtures/formats/parquet-testing/nonnullable.impala.parquet', import.meta.url));

function refusedWith(pattern: RegExp, column: string) {
  return (err: unknown) => {
    assert.ok(err instanceof InvalidFileError, String(err));
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /schema\.fields/);
    assert.deepEqual((err.details as { columns?: string[] } | undefined)?.columns, [column]);
    return true;
  };
}

describe('inferSchema: columns named like built-in fields', () => {
  it('refuses a Parquet column "ID" (the built-in id in another case), naming the column', async () => {
    const sample = await sampleFile(IMPALA, 'parquet', false, { csvDelimiter: ',' });
    assert.throws(() => inferSchema(sample), refusedWith(/column "ID" differs from the built-in field "id" only in case/, 'ID'));
  });

  it('refuses a column named like a PostgreSQL system column, naming it', () => {
    const sample = { columns: ['title', 'xmin'], rows: [{ title: 'a', xmin: 1 }], lines: [2], fromText: false };
    assert.throws(() => inferSchema(sample), refusedWith(/column "xmin" is the name of a PostgreSQL system column/, 'xmin'));
  });

  it('keeps columns named exactly like built-ins as the built-ins', () => {
    const sample = { columns: ['id', 'created_at', 'title'], rows: [{ id: 'r1', created_at: 5, title: 'a' }], lines: [2], fromText: false };
    assert.deepEqual(inferSchema(sample), [{ name: 'title', type: 'string' }]);
  });
});
