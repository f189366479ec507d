/**
 * The JSON and NDJSON exports are PostgreSQL's CSV rewritten as row_to_json lines
 * (copy-csv-json.transform.ts): they must be byte for byte what `COPY (SELECT row_to_json(r) …)`
 * writes for the same selection, on values that tempt a rewrite into mistakes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { exportCopySql, dataTable } from '../../../src/db/table-sql.js';
import type { FieldSchema } from '../../../src/types/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { AWKWARD_ROWS, exportBytes, tableWith } from './helpers.js';

const SCHEMA: { fields: FieldSchema[] } = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
    { name: 'price', type: 'number' },
    { name: 'paid', type: 'boolean' },
    { name: 'due', type: 'date' },
    { name: 'tags', type: 'array' },
    { name: 'meta', type: 'object' },
    { name: '_Note_2', type: 'string' },
  ],
};

describe('JSON, NDJSON and SQL exports written from PostgreSQL CSV: every value as PostgreSQL has it', () => {
  let server: TestServer;
  let token: string;
  let table: number;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
    table = await tableWith(server, token, AWKWARD_ROWS, SCHEMA);
    // Values the records API refuses, written as a program with the database could: every control
    // character, NaN and ±Infinity, floats at the edges of their text forms, JSON with escapes.
    const t = dataTable(table);
    const controls = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i))
      .filter((c) => c !== '\0')
      .join('');
    await server.db.query(
      `INSERT INTO ${t} (id, created_at, updated_at, created_by, title, qty, price, paid, due, tags, meta, "_Note_2")
       VALUES
        ('e', 50, 50, 'u', $1, -1, 'NaN', false, '0044-03-15 01:02:03.004+00', '["a,b", "\\"q\\"", "back\\\\slash", "\\u0001"]', '{"k": "v,\\n\\"x\\""}', ''),
        ('f', 60, 60, NULL, '"', 9223372036854775807, 'Infinity', NULL, '9999-12-31 23:59:59.999+00', '[1.5e300, -0.0, 1e-300]', '{}', '"'),
        ('g', 70, 70, '', ',', -9223372036854775808, '-Infinity', true, NULL, '[]', '{"a": null}', ','),
        ('h', 80, 80, 'x', $2, 3, 1e20, true, NULL, NULL, NULL, $3),
        ('i', 90, 90, 'y', '-', 4, -1.5e-7, false, NULL, '[true, false, null]', '{"": ""}', '-')`,
      [controls, 'ü\u2028\u2029\u007f🎉 "a"\\', 'line\nbreak\r\ncr'],
    );
  });
  after(() => server.close());

  async function rowToJson(selection: Record<string, unknown>): Promise<string> {
    const sql = exportCopySql(table, SCHEMA.fields, 'json', selection)
      .replace(/^COPY \(/, '')
      .replace(/\) TO STDOUT WITH .*$/, '');
    const { rows } = await server.db.query<{ line: string }>(`SELECT row_to_json::text AS line FROM (${sql}) q`);
    return rows.map((r) => `${r.line}\n`).join('');
  }

  for (const selection of [{}, { include_keys: ['meta', 'price', '_Note_2', 'id'] }, { timestamp_convert_keys: ['created_at'] }]) {
    test(`NDJSON and JSON of ${JSON.stringify(selection)}`, async () => {
      const expected = await rowToJson(selection);
      assert.equal(expected.split('\n').length, 10);
      // Each export takes the table's minute.
      server.clock.advance(61_000);
      const ndjson = (await exportBytes(server, token, table, { file_type: 'ndjson', ...selection })).bytes.toString('utf8');
      assert.equal(ndjson, expected);
      server.clock.advance(61_000);
      const json = (await exportBytes(server, token, table, { file_type: 'json', ...selection })).bytes.toString('utf8');
      assert.equal(json, `[\n${expected.trimEnd().split('\n').join(',\n')}\n]\n`);
    });
  }

  test('SQL: psql runs the file into a table of the same shape, giving the very same values (NaN, ±Infinity, 64-bit extremes, controls)', async () => {
    server.clock.advance(61_000);
    const { bytes, job } = await exportBytes(server, token, table, { file_type: 'sql' });
    assert.equal(job.rows, 9);
    const name = (await server.db.query<{ name: string }>('SELECT name FROM tableport.tables WHERE id = $1', [table])).rows[0]?.name;
    await server.db.query(`CREATE SCHEMA sql_values; CREATE TABLE sql_values."${name}" (LIKE ${dataTable(table)})`);
    const dir = await mkdtemp(join(tmpdir(), 'tableport-sql-values-'));
    try {
      await writeFile(join(dir, 'dump.sql'), bytes);
      await promisify(execFile)(
        'psql',
        ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', server.config.databaseUrl, '-f', join(dir, 'dump.sql')],
        {
          env: { ...process.env, PGOPTIONS: '-c search_path=sql_values' },
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const text = async (from: string) =>
      (await server.db.query<{ r: string }>(`SELECT t::text AS r FROM ${from} t ORDER BY id`)).rows.map((r) => r.r);
    assert.deepEqual(await text(`sql_values."${name}"`), await text(dataTable(table)));
  });
});
