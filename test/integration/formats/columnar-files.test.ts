import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { client, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { rowsOf, uniqueName } from './helpers.js';

const FIXTURES = new URL('../../fixtures/formats/', import.meta.url);

/** Parquet and xlsx files written by the tools people use (pyarrow, openpyxl), imported through the API. */
describe('formats: Parquet and xlsx files from other writers, through the service', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  async function createFrom(file: string) {
    const bytes = await readFile(new URL(file, FIXTURES));
    // A neutral name: the format must come from the content.
    const res = await client(server, token)
      .post('/oserve/v1/table/import/')
      .field('name', uniqueName('t'))
      .attach('file', bytes, 'upload.bin');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id as string);
    return { job, tableId: res.body.table_id as number };
  }

  for (const codec of ['snappy', 'zstd']) {
    test(`pyarrow, ${codec} pages, several row groups, nulls, lists and structs`, async () => {
      const { job, tableId } = await createFrom(`pyarrow-${codec}.parquet`);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
      assert.equal(job.rows, 3000);
      const types = Object.fromEntries((job.inferred_schema?.fields ?? []).map((f) => [f.name, f.type]));
      assert.equal(types.score, 'number');
      assert.equal(types.flag, 'boolean');
      assert.equal(types.at, 'date');
      assert.equal(types.small, 'integer');
      const res = await client(server, token).get(
        `/oserve/v1/table/${tableId}/record/?where=${encodeURIComponent('{"small":{"$eq":7}}')}&limit=1000`,
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      // i % 100 == 7 for 30 of the 3,000 rows.
      assert.equal(res.body.meta.total_count, 30);
      const one = (res.body.objects as Array<Record<string, unknown>>).find((r) => r.score === 7 * 1.5);
      assert.ok(one, 'row i=7 is there');
      assert.equal(one.text, 'ünïcødé 中文 🚀 "q", 7');
      assert.equal(one.flag, false); // i % 3 != 0, so set; i is odd
    });
  }

  test('apache/parquet-testing files through the import: no rows, an INT96 no instant holds, an encrypted file, a DECIMAL', async () => {
    const upload = async (file: string) => {
      const bytes = await readFile(new URL(`parquet-testing/${file}`, FIXTURES));
      return client(server, token).post('/oserve/v1/table/import/').field('name', uniqueName('pt')).attach('file', bytes, 'upload.bin');
    };
    // A file of columns and no rows: a table with those columns, and a succeeded import of 0 rows.
    const empty = await upload('column_chunk_key_value_metadata.parquet');
    assert.equal(empty.status, 201, JSON.stringify(empty.body));
    const emptyJob = await waitForJob(server, token, empty.body.job_id as string);
    assert.equal(emptyJob.status, 'succeeded', JSON.stringify(emptyJob.errors));
    assert.equal(emptyJob.rows, 0);
    assert.deepEqual(
      emptyJob.inferred_schema?.fields.map((f) => f.name),
      ['column1', 'column2'],
    );
    // Spark's INT96 with a time of day outside the day: its row is refused naming line and column.
    const int96 = await upload('int96_from_spark.parquet');
    const int96Job = await waitForJob(server, token, int96.body.job_id as string);
    assert.equal(int96Job.status, 'failed');
    assert.equal(int96Job.errors[0]?.line, 6);
    assert.equal(int96Job.errors[0]?.field, 'a');
    assert.match(int96Job.errors[0]?.error_msg ?? '', /INT96 timestamp whose time of day .* is outside a day/);
    // An encrypted footer: refused at upload, saying so.
    const encrypted = await upload('uniform_encryption.parquet.encrypted');
    assert.equal(encrypted.status, 400, JSON.stringify(encrypted.body));
    assert.equal(encrypted.body.error_code, 'invalid_file');
    assert.match(encrypted.body.error_msg as string, /The Parquet file is encrypted.*not supported/);
    // DECIMAL(7,3) is stored as the decimal it is: 1003.858, not 1003.8580000000001.
    const decimals = await upload('byte_stream_split_extended.gzip.parquet');
    const decimalsJob = await waitForJob(server, token, decimals.body.job_id as string);
    assert.equal(decimalsJob.status, 'succeeded', JSON.stringify(decimalsJob.errors));
    const res = await client(server, token).get(
      `/oserve/v1/table/${decimals.body.table_id}/record/?where=${encodeURIComponent('{"decimal_plain":{"$eq":1003.858}}')}`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.meta.total_count, 1);
    assert.equal(res.body.objects[0].decimal_byte_stream_split, 1003.858);
  });

  test('openpyxl workbook: header row, numbers, booleans, dates, empty cells, newlines', async () => {
    const { job, tableId } = await createFrom('openpyxl.xlsx');
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const rows = await rowsOf(server, token, tableId);
    const widget = rows.find((r) => r.name === 'Widget, "large"');
    assert.ok(widget, JSON.stringify(rows));
    assert.deepEqual(
      [widget.qty, widget.price, widget.ok, widget.at, widget.note],
      [3, 9.5, true, '2024-05-01T12:34:56.789Z', 'first\nline'],
    );
    const cjk = rows.find((r) => r.name === '中文 🚀');
    assert.deepEqual([cjk?.qty, cjk?.price, cjk?.ok, cjk?.at, cjk?.note], [-7, 0.1, false, null, null]);
  });
});
