/**
 * The CLI's location forms against a real server with server folders allowed: `export
 * --destination`, `import <URL>`, `sql "COPY INTO ..."`, and their usage errors.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../../src/types/api.js';
import { createTable } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { runTableport } from '../../helpers/cli.js';

const tableport = runTableport;

describe('tableport CLI: locations and COPY INTO', () => {
  let server: TestServer;
  let dir: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => tableport(args, env);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-cli-loc-'));
    await mkdir(join(dir, 'out'));
    await mkdir(join(dir, 'in'));
    server = await startTestServer({ env: { EXPORT_DIR: join(dir, 'out'), IMPORT_DIR: join(dir, 'in'), TASK_INTERVAL_SECONDS: '1' } });
    const { token } = await server.createUser();
    env = { TABLEPORT_URL: server.baseUrl, TABLEPORT_TOKEN: token };
    const id = await createTable(server, token, 'notes', { fields: [{ name: 'text', type: 'string' }] });
    const res = await fetch(`${server.baseUrl}/oserve/v1/table/${id}/record/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        { id: 'n1', text: 'one' },
        { id: 'n2', text: 'two' },
      ]),
    });
    assert.equal(res.status, 201);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('export --destination writes into the folder and prints where', async () => {
    const run = await cli('export', 'notes', '--type', 'csv', '--destination', `file://${dir}/out/`, '--wait');
    assert.equal(run.code, 0, run.stderr);
    const [file] = await readdir(join(dir, 'out'));
    assert.match(file ?? '', /^notes_\d{8}_\d{6}\.csv$/);
    assert.match(run.stdout, new RegExp(`Written to file://${dir}/out/${file}`));
    assert.equal((await readFile(join(dir, 'out', file ?? ''), 'utf8')).trim().split('\n').length, 3);
  });

  test('import <URL> reads a location; sql runs COPY INTO and prints the job as JSON', async () => {
    await writeFile(join(dir, 'in', 'more.csv'), 'id,text\nm1,three\n');
    const imp = await cli('import', 'notes', `file://${dir}/in/more.csv`, '--wait', '--json');
    assert.equal(imp.code, 0, imp.stderr);
    const job = JSON.parse(imp.stdout) as Job;
    assert.equal(job.status, 'succeeded');
    assert.equal(job.rows, 1);
    assert.equal(job.source_url, `file://${dir}/in/more.csv`);

    server.clock.advance(1100); // the table's export minute is 1 s here
    const sql = await cli('sql', `COPY INTO 'file://${dir}/out/sql/' FROM notes FILE_FORMAT = (TYPE = 'JSON')`, '--wait', '--json');
    assert.equal(sql.code, 0, sql.stderr);
    const done = JSON.parse(sql.stdout) as Job;
    assert.equal(done.rows, 3);
    assert.match(done.destination_url ?? '', /\/out\/sql\/notes_\d{8}_\d{6}\.json$/);
    assert.equal(JSON.parse(await readFile(new URL(done.destination_url ?? ''), 'utf8')).length, 3);
  });

  test('refusals: a statement that does not parse (exit 3, position), --connection without a location (exit 2)', async () => {
    const bad = await cli('sql', 'COPY INTO notes', '--json');
    assert.equal(bad.code, 3);
    const body = JSON.parse(bad.stdout) as { error_code: string; error_msg: string };
    assert.equal(body.error_code, 'invalid_parameter');
    assert.match(body.error_msg, /line 1, column 16/);
    const usage = await cli('import', 'notes', './local.csv', '--connection', '{"region": "x"}');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--connection goes with a location/);
    const unknown = await cli('sql', `COPY INTO 'file://${dir}/out/' FROM nope`);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /nope/);
  });
});
