import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SqlSyntaxError } from '../../../src/errors.js';
import { parseCopyInto } from '../../../src/sql/index.js';

function syntaxError(sql: string): SqlSyntaxError {
  try {
    parseCopyInto(sql);
  } catch (err) {
    assert.ok(err instanceof SqlSyntaxError, `not a SqlSyntaxError: ${String(err)}`);
    return err;
  }
  assert.fail(`parsed: ${sql}`);
}

const PEM = '-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----';

// The statements of CnosDB's "Import and Export" page, in its shapes: local, S3, GCS and Azure,
// both directions, with and without commas between options, tabs, "=" left out after a clause.
describe("CnosDB's documented COPY INTO examples parse", () => {
  test('export Parquet to a local folder', () => {
    assert.deepEqual(parseCopyInto(`COPY INTO 'file:///tmp/air/'\nFROM "air"\nFILE_FORMAT = (\n     TYPE = 'PARQUET'\n);`), {
      kind: 'export',
      table: { name: 'air' },
      location: 'file:///tmp/air/',
      connection: {},
      fileFormat: { type: 'parquet' },
      copyOptions: {},
    });
  });

  test('export CSV to a local file with a delimiter and no header (tabs, no spaces around "=")', () => {
    const s = parseCopyInto(
      `COPY INTO 'file:///tmp/air'\nFROM "air"\nFILE_FORMAT = (\n    TYPE = 'CSV',\n  \tDELIMITER=',',\n  \tWITH_HEADER=false\n);`,
    );
    assert.deepEqual(s.fileFormat, { type: 'csv', delimiter: ',', withHeader: false });
  });

  test('export CSV and Parquet to S3', () => {
    const csv = parseCopyInto(
      `COPY INTO 's3://tmp/air' \nFROM "air"\nCONNECTION = (\n    region = 'us-east-1',\n    access_key_id = 'AKID',\n    secret_key = 'SECRET'\n)\nFILE_FORMAT = (\n  TYPE = 'CSV',\n  DELIMITER = ',',\n  WITH_HEADER = true\n);`,
    );
    assert.equal(csv.kind, 'export');
    assert.equal(csv.location, 's3://tmp/air');
    assert.deepEqual(csv.connection, { region: 'us-east-1', access_key_id: 'AKID', secret_key: 'SECRET' });
    assert.deepEqual(csv.fileFormat, { type: 'csv', delimiter: ',', withHeader: true });
    const pq = parseCopyInto(
      `COPY INTO 's3://tmp/air'\nFROM "air"\nCONNECTION = (\n    region = 'us‑east‑1',\n    access_key_id = '****',\n    secret_key = '****'\n)\nFILE_FORMAT = (\n  \tTYPE = 'PARQUET'\n);`,
    );
    assert.equal(pq.connection.region, 'us‑east‑1');
    assert.deepEqual(pq.fileFormat, { type: 'parquet' });
  });

  test('S3 with token and virtual_hosted_style, and a database-qualified table', () => {
    const s = parseCopyInto(
      `COPY INTO 's3://bkt/p/' FROM public.air CONNECTION = (region = 'eu-west-1', access_key_id = 'a', secret_key = 'b', token = 't', virtual_hosted_style = true) FILE_FORMAT = (TYPE = 'JSON')`,
    );
    assert.deepEqual(s.table, { database: 'public', name: 'air' });
    assert.equal(s.connection.virtual_hosted_style, true);
    assert.equal(s.connection.token, 't');
  });

  test('export JSON and CSV to GCS (unquoted table name, a PEM key with \\n escapes)', () => {
    const s = parseCopyInto(
      `COPY INTO 'gcs://tmp/air'\nFROM air\nCONNECTION = (\n    gcs_base_url = 'https://storage.googleapis.com',\n    disable_oauth = false,\n    client_email = 'service_account@example.com',\n    private_key = '${PEM}'\n)\nFILE_FORMAT = (\n    TYPE = 'JSON'\n);`,
    );
    assert.equal(s.kind, 'export');
    assert.deepEqual(s.table, { name: 'air' });
    assert.deepEqual(s.connection, {
      gcs_base_url: 'https://storage.googleapis.com',
      disable_oauth: false,
      client_email: 'service_account@example.com',
      private_key: PEM,
    });
    assert.deepEqual(s.fileFormat, { type: 'json' });
  });

  test('export CSV and Parquet to Azure Blob', () => {
    const s = parseCopyInto(
      `COPY INTO 'azblob://tmp/air'\nFROM "air"\nCONNECTION = (\n    account = 'acct',\n    access_key = 'key'\n)\nFILE_FORMAT = (\n    TYPE = 'CSV',\n    DELIMITER = ',',\n    WITH_HEADER = true\n);`,
    );
    assert.deepEqual(s.connection, { account: 'acct', access_key: 'key' });
    const b = parseCopyInto(
      `COPY INTO 'azblob://tmp/air' FROM "air" CONNECTION = (account = 'acct', bearer_token = 'tok') FILE_FORMAT = (TYPE = 'PARQUET');`,
    );
    assert.equal(b.connection.bearer_token, 'tok');
  });

  test('import Parquet from a local folder', () => {
    assert.deepEqual(parseCopyInto(`COPY INTO "air"\nFROM 'file:///tmp/air/'\nFILE_FORMAT = (\n    TYPE = 'PARQUET'\n);`), {
      kind: 'import',
      table: { name: 'air' },
      location: 'file:///tmp/air/',
      connection: {},
      fileFormat: { type: 'parquet' },
      copyOptions: {},
    });
  });

  test('import CSV from a double-quoted local folder, with COPY_OPTIONS', () => {
    const s = parseCopyInto(
      `COPY INTO "air"\nFROM "file:///tmp/air/"\nFILE_FORMAT = (\n    TYPE = 'CSV',\n  \tDELIMITER=',',\n  \tWITH_HEADER = true\n)\nCOPY_OPTIONS = (\n  \tauto_infer_schema = false\n);`,
    );
    assert.equal(s.kind, 'import');
    assert.equal(s.location, 'file:///tmp/air/');
    assert.deepEqual(s.copyOptions, { autoInferSchema: false });
  });

  test('import from S3, GCS and Azure; FILE_FORMAT and COPY_OPTIONS without "=" as the syntax shows', () => {
    const s3 = parseCopyInto(
      `COPY INTO "air" \nFROM 's3://temp/air'\nCONNECTION = (\n    region = 'us-east-1',\n    access_key_id = 'a',\n    secret_key = 'b'\n)\nFILE_FORMAT (\n\t\tTYPE = 'CSV',\n\t\tDELIMITER = ',',\n\t\tWITH_HEADER = true\n)\nCOPY_OPTIONS (auto_infer_schema = true);`,
    );
    assert.equal(s3.kind, 'import');
    assert.deepEqual(s3.copyOptions, { autoInferSchema: true });
    const gcs = parseCopyInto(
      `COPY INTO air FROM 'gcs://tmp/air' CONNECTION = (gcs_base_url = 'http://127.0.0.1:4574', disable_oauth = true) FILE_FORMAT = (TYPE = 'JSON')`,
    );
    assert.deepEqual(gcs.connection, { gcs_base_url: 'http://127.0.0.1:4574', disable_oauth: true });
    const az = parseCopyInto(
      `COPY INTO "air" FROM 'azblob://tmp/air' CONNECTION = (account = 'a', access_key = 'k') FILE_FORMAT = (TYPE = 'PARQUET');`,
    );
    assert.equal(az.location, 'azblob://tmp/air');
  });

  test("options separated by spaces only (the docs' TYPE='CSV' WITH_HEADER=true)", () => {
    assert.deepEqual(parseCopyInto(`COPY INTO 'file:///x/' FROM t FILE_FORMAT = (TYPE='CSV' WITH_HEADER=true)`).fileFormat, {
      type: 'csv',
      withHeader: true,
    });
  });
});

describe('COPY INTO: the rest of the grammar', () => {
  test('keywords and option names are case-insensitive; string values keep their case', () => {
    const s = parseCopyInto(
      `copy into 'S3://Bkt/Key.csv' from Orders connection = (REGION = 'EU-West-1') file_format = (type = 'csv', Delimiter = ';')`,
    );
    assert.equal(s.location, 'S3://Bkt/Key.csv');
    assert.deepEqual(s.table, { name: 'Orders' });
    assert.deepEqual(s.connection, { region: 'EU-West-1' });
    assert.deepEqual(s.fileFormat, { type: 'csv', delimiter: ';' });
  });

  test('\'\' inside a string is one quote; "" inside an identifier is one double quote', () => {
    const s = parseCopyInto(`COPY INTO 's3://b/it''s.csv' FROM "my ""odd"" table" CONNECTION = (secret_key = 'a''b')`);
    assert.equal(s.location, "s3://b/it's.csv");
    assert.equal(s.table.name, 'my "odd" table');
    assert.equal(s.connection.secret_key, "a'b");
  });

  test('comments, no clauses, no semicolon', () => {
    const s = parseCopyInto(`-- nightly\nCOPY INTO /* where */ 'https://example.com/a.csv' FROM x`);
    assert.equal(s.location, 'https://example.com/a.csv');
    assert.deepEqual(s.fileFormat, {});
  });

  test('an import may name its columns', () => {
    const s = parseCopyInto(`COPY INTO t (title, "Price", qty) FROM 's3://b/k.csv' FILE_FORMAT = (TYPE = 'CSV', WITH_HEADER = false)`);
    assert.deepEqual(s.table, { name: 't', columns: ['title', 'Price', 'qty'] });
  });
});

describe('COPY INTO: statements that do not parse say where and what was expected', () => {
  test('an unterminated string points at its opening quote', () => {
    const e = syntaxError(`COPY INTO 's3://b/k\nFROM t`);
    assert.match(e.message, /Unterminated string/);
    assert.deepEqual([e.line, e.column, e.offset], [1, 11, 10]);
    assert.equal(e.code, 'invalid_parameter');
    assert.equal(e.status, 400);
    assert.equal(e.toResponse().parameter, 'sql');
    assert.deepEqual(e.toResponse().details, { line: 1, column: 11, offset: 10, expected: ["'"] });
  });

  test('a missing FROM names the token found instead, on the right line', () => {
    const e = syntaxError(`COPY INTO 's3://b/k'\n  t CONNECTION = (region = 'x')`);
    assert.match(e.message, /Expected FROM but found "t"/);
    assert.deepEqual([e.line, e.column], [2, 3]);
    assert.deepEqual(e.expected, ['FROM']);
  });

  test('an unknown option, in each clause', () => {
    let e = syntaxError(`COPY INTO 's3://b/k' FROM t CONNECTION = (region = 'x', secret_access_key = 'y')`);
    assert.match(e.message, /Unknown CONNECTION option "secret_access_key" for s3:\/\//);
    assert.ok(e.expected.includes('secret_key'));
    assert.equal(e.column, 57);
    e = syntaxError(`COPY INTO 'gcs://b/k' FROM t CONNECTION = (region = 'x')`);
    assert.match(e.message, /Unknown CONNECTION option "region" for gcs/);
    e = syntaxError(`COPY INTO 's3://b/k' FROM t FILE_FORMAT = (TYPE = 'CSV', QUOTE = '"')`);
    assert.match(e.message, /Unknown FILE_FORMAT option "QUOTE"/);
    e = syntaxError(`COPY INTO t FROM 's3://b/k' COPY_OPTIONS = (on_error = 'skip')`);
    assert.match(e.message, /Unknown COPY_OPTIONS option "on_error"/);
    e = syntaxError(`COPY INTO 'file:///x/' FROM t CONNECTION = (region = 'x')`);
    assert.match(e.message, /for file:\/\//);
  });

  test('a duplicate option or clause', () => {
    let e = syntaxError(`COPY INTO 's3://b/k' FROM t CONNECTION = (region = 'a', REGION = 'b')`);
    assert.match(e.message, /"region" is given twice/);
    assert.equal(e.column, 57);
    e = syntaxError(`COPY INTO 's3://b/k' FROM t FILE_FORMAT = (TYPE = 'CSV') FILE_FORMAT = (TYPE = 'JSON')`);
    assert.match(e.message, /FILE_FORMAT is given twice/);
  });

  test('a bad TYPE, DELIMITER or WITH_HEADER', () => {
    let e = syntaxError(`COPY INTO 's3://b/k' FROM t FILE_FORMAT = (TYPE = 'XML')`);
    assert.match(e.message, /TYPE must be 'CSV', 'JSON', 'NDJSON' or 'PARQUET'/);
    assert.equal(e.column, 51);
    e = syntaxError(`COPY INTO 's3://b/k' FROM t FILE_FORMAT = (TYPE = PARQUET)`);
    assert.match(e.message, /Expected a quoted string/);
    e = syntaxError(`COPY INTO 's3://b/k' FROM t FILE_FORMAT = (TYPE = 'CSV', DELIMITER = ';;')`);
    assert.match(e.message, /DELIMITER must be one character/);
    e = syntaxError(`COPY INTO 's3://b/k' FROM t FILE_FORMAT = (TYPE = 'CSV', WITH_HEADER = 'yes')`);
    assert.match(e.message, /WITH_HEADER must be TRUE or FALSE/);
    e = syntaxError(`COPY INTO 's3://b/k' FROM t FILE_FORMAT = (TYPE = 'PARQUET', DELIMITER = ',')`);
    assert.match(e.message, /only to TYPE = 'CSV'/);
  });

  test('trailing garbage after the statement or after the semicolon', () => {
    let e = syntaxError(`COPY INTO 's3://b/k' FROM t; DROP TABLE t`);
    assert.match(e.message, /Unexpected text after the statement: found "DROP"/);
    assert.equal(e.column, 30);
    e = syntaxError(`COPY INTO 's3://b/k' FROM t FILE_FORMAT = (TYPE = 'CSV') extra`);
    assert.match(e.message, /Unexpected text after the statement/);
    assert.ok(e.expected.includes('CONNECTION'));
  });

  test('the rest: not COPY, a bad scheme, an unclosed list, auto_infer_schema on an export, TAGS, a stray character', () => {
    assert.match(syntaxError('SELECT * FROM t').message, /Expected COPY but found "SELECT"/);
    assert.match(syntaxError('').message, /Expected COPY but found the end of the statement/);
    assert.match(syntaxError(`COPY INTO 'ftp://h/x' FROM t`).message, /must be an s3:\/\//);
    assert.match(syntaxError(`COPY INTO 's3://b/k' FROM t CONNECTION = (region = 'x'`).message, /Expected '\)' or ','/);
    assert.match(
      syntaxError(`COPY INTO 's3://b/k' FROM t COPY_OPTIONS = (auto_infer_schema = true)`).message,
      /applies only to COPY INTO a table/,
    );
    assert.match(syntaxError(`COPY INTO t (a, TAGS (b)) FROM 's3://b/k'`).message, /TAGS columns are not supported/);
    assert.match(
      syntaxError(`COPY INTO 's3://b/k' FROM t CONNECTION = (region = 'x') $`).message,
      /Unexpected text after the statement: found "\$"/,
    );
    assert.match(syntaxError(`COPY INTO "t FROM 's3://b/k'`).message, /Unterminated quoted identifier/);
    assert.match(syntaxError(`COPY INTO t FROM 's3://b/k' /* open`).message, /Unterminated comment/);
    assert.match(syntaxError(`COPY INTO 's3://b/k'.x FROM t`).message, /Expected FROM but found "\."/);
  });

  test('an error never echoes a quoted string, which may be a secret', () => {
    const e = syntaxError(`COPY INTO 's3://b/k' FROM t CONNECTION = (secret_key = 'TOPSECRET' 'MORESECRET')`);
    assert.doesNotMatch(e.message, /SECRET/);
  });

  test('an over-long statement is refused without being parsed', () => {
    const e = syntaxError(`COPY INTO 's3://b/${'k'.repeat(70_000)}' FROM t`);
    assert.match(e.message, /longer than 65536 characters/);
  });
});
