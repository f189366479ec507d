import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCopyInto, planCopy } from '../../../src/sql/index.js';

describe('COPY INTO as REST task parameters', () => {
  test('an export: destination, connection, file_type and the CSV options under their API names', () => {
    assert.deepEqual(
      planCopy(
        parseCopyInto(
          `COPY INTO 's3://b/air/' FROM "air" CONNECTION = (region = 'us-east-1') FILE_FORMAT = (TYPE = 'CSV', DELIMITER = ';', WITH_HEADER = false)`,
        ),
      ),
      {
        kind: 'export',
        tableName: 'air',
        destination: 's3://b/air/',
        connection: { region: 'us-east-1' },
        file_type: 'csv',
        csv_delimiter: ';',
        csv_header: false,
      },
    );
  });

  test('an export without TYPE takes the extension, then CSV', () => {
    assert.equal(planCopy(parseCopyInto(`COPY INTO 's3://b/air.parquet' FROM air`)).kind, 'export');
    assert.equal((planCopy(parseCopyInto(`COPY INTO 's3://b/air.parquet' FROM air`)) as { file_type: string }).file_type, 'parquet');
    assert.equal((planCopy(parseCopyInto(`COPY INTO 'file:///x/air.jsonl' FROM air`)) as { file_type: string }).file_type, 'ndjson');
    assert.equal((planCopy(parseCopyInto(`COPY INTO 's3://b/air/' FROM air`)) as { file_type: string }).file_type, 'csv');
  });

  test('an import: source, columns, auto_infer_schema, and no file_type unless given', () => {
    assert.deepEqual(
      planCopy(
        parseCopyInto(
          `COPY INTO db.air (a, b) FROM 'gcs://b/air/' CONNECTION = (disable_oauth = true) COPY_OPTIONS = (auto_infer_schema = true)`,
        ),
      ),
      {
        kind: 'import',
        tableName: 'air',
        database: 'db',
        source: 'gcs://b/air/',
        connection: { disable_oauth: true },
        columns: ['a', 'b'],
        auto_infer_schema: true,
      },
    );
    assert.deepEqual(planCopy(parseCopyInto(`COPY INTO air FROM 'https://example.com/a.csv' FILE_FORMAT = (TYPE = 'JSON')`)), {
      kind: 'import',
      tableName: 'air',
      source: 'https://example.com/a.csv',
      connection: {},
      file_type: 'json',
    });
  });
});
