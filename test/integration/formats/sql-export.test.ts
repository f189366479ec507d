import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { AWKWARD_ROWS, exportBytes, rowsOf, tableWith } from './helpers.js';
import { defined } from '../../helpers/defined.js';

const run = promisify(execFile);

describe('SQL export', () => {
  let server: TestServer;
  let token: string;
  let dir: string;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
    dir = await mkdtemp(join(tmpdir(), 'tableport-sql-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await server.close();
  });

  test('psql runs the file into a table of the same shape, giving the same rows, whatever the server quoting setting', async () => {
    const src = await tableWith(server, token, AWKWARD_ROWS);
    const { bytes, job } = await exportBytes(server, token, src, { file_type: 'sql' });
    assert.match(defined(job.file_name, 'job.file_name'), /\.sql$/);
    const text = bytes.toString();
    const name = defined(
      (await server.db.query<{ name: string }>('SELECT name FROM tableport.tables WHERE id = $1', [src])).rows[0],
      'the table row',
    ).name;
    assert.equal(
      text.split('\n').filter((l) => l.startsWith(`INSERT INTO "${name}" ("id", "created_at", "updated_at", "created_by", "title"`)).length,
      4,
    );
    assert.match(text, /VALUES \('c', 30, 30, '\d+', NULL, 0, NULL, NULL, '1970-01-01T00:00:00.000Z', NULL, NULL\);/);

    await server.db.query(`CREATE SCHEMA sql_restore; CREATE TABLE sql_restore."${name}" (
      id text PRIMARY KEY, created_at bigint, updated_at bigint, created_by text, title text, qty bigint,
      price double precision, paid boolean, due timestamptz, tags jsonb, meta jsonb)`);
    const file = join(dir, 'dump.sql');
    await writeFile(file, bytes);
    // With the old escape-string behaviour on, a file that relied on the default would mangle backslashes.
    await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', server.config.databaseUrl, '-f', file], {
      env: { ...process.env, PGOPTIONS: '-c search_path=sql_restore -c standard_conforming_strings=off' },
    });
    const { rows } = await server.db.query<{ r: Record<string, unknown> }>(
      `SELECT row_to_json(x) AS r FROM (SELECT id, created_at, updated_at, created_by, title, qty, price, paid,
         to_char(due AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS due, tags, meta FROM sql_restore."${name}" ORDER BY id) x`,
    );
    assert.deepEqual(
      rows.map((r) => r.r),
      await rowsOf(server, token, src),
    );
  });

  test('an empty table gives a file psql runs without error', async () => {
    const src = await tableWith(server, token, []);
    const { bytes, job } = await exportBytes(server, token, src, { file_type: 'sql' });
    assert.equal(job.rows, 0);
    assert.equal(bytes.toString(), 'SET standard_conforming_strings = on;\n');
  });
});
