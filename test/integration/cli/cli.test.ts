/**
 * The `tableport` client commands as a user runs them: a child process per command, configured
 * by TABLEPORT_URL/TABLEPORT_TOKEN, against a real server. Checked: exit codes, --json output,
 * the downloaded file, and the error codes printed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { Job, Table } from '../../../src/types/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { defined } from '../../helpers/defined.js';
import { type Run, runTableport } from '../../helpers/cli.js';

const tableport = runTableport;

function json<T>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    assert.fail(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

describe('tableport CLI against a real server', () => {
  let server: TestServer;
  let env: Record<string, string>;
  let dir: string;
  const cli = (...args: string[]) => tableport(args, env);

  before(async () => {
    server = await startTestServer();
    const { token } = await server.createUser();
    env = { TABLEPORT_URL: server.baseUrl, TABLEPORT_TOKEN: token };
    dir = await mkdtemp(join(tmpdir(), 'tp-cli-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('tables create, list, show (by name) and delete, with --json', async () => {
    const created = await cli('tables', 'create', 'people', '--field', 'name:string', '--field', 'age:integer', '--json');
    assert.equal(created.code, 0, created.stderr);
    const table = json<Table>(created);
    assert.deepEqual(
      table.schema.fields.map((f) => [f.name, f.type]),
      [
        ['name', 'string'],
        ['age', 'integer'],
      ],
    );

    const listed = await cli('tables', 'list', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(json<Table[]>(listed).some((t) => t.id === table.id && t.name === 'people'));

    const shown = await cli('tables', 'show', 'people', '--json');
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(json<Table>(shown).id, table.id);

    const human = await cli('tables', 'show', String(table.id));
    assert.equal(human.code, 0);
    assert.match(human.stdout, /age: integer/);

    const deleted = await cli('tables', 'delete', 'people', '--json');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(json(deleted), { deleted: true, id: table.id, name: 'people' });

    const gone = await cli('tables', 'show', String(table.id), '--json');
    assert.equal(gone.code, 3);
    assert.equal(json<{ error_code: string }>(gone).error_code, 'not_found');
  });

  test('import --wait, then export --out: the file holds the imported rows; a second export is refused with too_frequent', async () => {
    const made = await cli('tables', 'create', 'orders', '--field', 'title:string', '--field', 'qty:integer', '--json');
    assert.equal(made.code, 0, made.stderr);
    const csvIn = join(dir, 'orders-in.csv');
    await writeFile(csvIn, 'title,qty,created_at\nfirst,1,1000\nsecond,2,2000\n');

    const imported = await cli('import', 'orders', csvIn, '--wait', '--json');
    assert.equal(imported.code, 0, imported.stderr);
    const ijob = json<Job>(imported);
    assert.equal(ijob.status, 'succeeded');
    assert.equal(ijob.rows, 2);
    // Not a terminal: plain progress lines on stderr, stdout kept for the JSON.
    assert.match(imported.stderr, new RegExp(`job ${ijob.id}: succeeded`));

    const out = join(dir, 'orders-out.csv');
    const exported = await cli('export', 'orders', '--type', 'csv', '--out', out, '--json');
    assert.equal(exported.code, 0, exported.stderr);
    const ejob = json<Job & { download: { path: string; bytes: number } }>(exported);
    assert.equal(ejob.status, 'succeeded');
    assert.equal(ejob.rows, 2);
    assert.equal(ejob.download.path, out);
    const rows = parse(await readFile(out, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(
      rows.map((r) => [r.title, r.qty, r.created_at]),
      [
        ['first', '1', '1000'],
        ['second', '2', '2000'],
      ],
    );

    const again = await cli('export', 'orders', '--type', 'json');
    assert.equal(again.code, 3);
    assert.match(again.stderr, /too_frequent/);
    const againJson = await cli('export', 'orders', '--type', 'json', '--json');
    assert.equal(againJson.code, 3);
    const body = json<{ error_code: string; retry_after?: number }>(againJson);
    assert.equal(body.error_code, 'too_frequent');

    const jobs = await cli('jobs', 'list', '--json');
    assert.equal(jobs.code, 0, jobs.stderr);
    const ids = json<Job[]>(jobs).map((j) => j.id);
    assert.deepEqual(ids.slice(0, 2), [ejob.id, ijob.id]);

    const shown = await cli('jobs', 'show', ejob.id, '--json');
    assert.equal(shown.code, 0);
    assert.equal(json<Job>(shown).file_url, ejob.file_url);

    const waited = await cli('jobs', 'wait', ejob.id, '--out', dir);
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stdout, /succeeded: 2 rows/);
    assert.match(waited.stdout, /Saved to /);
  });

  test('export without --wait prints the queued job; jobs wait follows it', async () => {
    await cli('tables', 'create', 'later', '--field', 'title:string');
    const queued = await cli('export', 'later', '--type', 'json', '--json');
    assert.equal(queued.code, 0, queued.stderr);
    const { status, job_id } = json<{ status: string; job_id: string }>(queued);
    assert.equal(status, 'ok');
    const waited = await cli('jobs', 'wait', job_id, '--json');
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(json<Job>(waited).status, 'succeeded');
  });

  test('an import with a bad row exits 1 and names the line', async () => {
    await cli('tables', 'create', 'strict', '--field', 'qty:integer');
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'qty\n1\nnot-a-number\n');
    const run = await cli('import', 'strict', bad, '--wait');
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /failed/);
    assert.match(run.stderr, /line 3/);
    await writeFile(join(dir, 'bad2.csv'), 'qty\nnope\n');
    const asJson = await cli('import', 'strict', join(dir, 'bad2.csv'), '--wait', '--json');
    // The first import's minute has not passed: refused before any job.
    assert.equal(asJson.code, 3);
    assert.equal(json<{ error_code: string }>(asJson).error_code, 'too_frequent');
  });

  test('import - reads the file from stdin, named by --filename', async () => {
    await cli('tables', 'create', 'piped', '--field', 'n:integer');
    const run = await tableport(
      ['import', 'piped', '-', '--filename', 'rows.json', '--wait', '--json'],
      env,
      '[{"n": 1}, {"n": 2}, {"n": 3}]',
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(json<Job>(run).rows, 3);
    const noName = await tableport(['import', 'piped', '-'], env, '[]');
    assert.equal(noName.code, 2);
  });

  test('a file the table cannot take is refused: exit 3 with invalid_file', async () => {
    await cli('tables', 'create', 'cols', '--field', 'a:string');
    const f = join(dir, 'cols.csv');
    await writeFile(f, 'zzz\n1\n');
    const run = await cli('import', 'cols', f, '--json');
    assert.equal(run.code, 3);
    assert.equal(json<{ error_code: string }>(run).error_code, 'invalid_file');
  });

  test('bad usage exits 2 before asking the server', async () => {
    const noType = await cli('export', 'orders');
    assert.equal(noType.code, 2);
    assert.match(noType.stderr, /--type/);
    const allWithRange = await cli('export', 'orders', '--type', 'csv', '--mode', 'all', '--start', '5');
    assert.equal(allWithRange.code, 2);
    const badTime = await cli('export', 'orders', '--type', 'csv', '--start', 'yesterday', '--json');
    assert.equal(badTime.code, 2);
    assert.equal(json<{ error_code: string }>(badTime).error_code, 'invalid_usage');
    const unknown = await cli('tables', 'list', '--bogus');
    assert.equal(unknown.code, 2);
    const noFile = await cli('import', 'orders', join(dir, 'missing.csv'));
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /no such file/);
    const noToken = await tableport(['tables', 'list'], { TABLEPORT_URL: server.baseUrl });
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /TABLEPORT_TOKEN/);
  });

  test('a bad token exits 3 with unauthorized; --url and --token flags work without the environment', async () => {
    const run = await tableport(['tables', 'list', '--url', server.baseUrl, '--token', 'wrong', '--json']);
    assert.equal(run.code, 3);
    assert.equal(json<{ error_code: string }>(run).error_code, 'unauthorized');
    const ok = await tableport([
      'tables',
      'list',
      '--url',
      server.baseUrl,
      '--token',
      defined(env.TABLEPORT_TOKEN, 'env.TABLEPORT_TOKEN'),
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('an unreachable server exits 4', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const run = await tableport(['tables', 'list', '--json'], { TABLEPORT_URL: `http://127.0.0.1:${port}`, TABLEPORT_TOKEN: 't' });
    assert.equal(run.code, 4);
    assert.equal(json<{ error_code: string }>(run).error_code, 'connection_failed');
    assert.match(run.stderr, /Cannot reach/);
  });

  test('every command has --help with an example, exiting 0', async () => {
    const commands = [
      [],
      ['tables'],
      ['tables', 'list'],
      ['tables', 'create'],
      ['tables', 'show'],
      ['tables', 'delete'],
      ['export'],
      ['import'],
      ['jobs'],
      ['jobs', 'list'],
      ['jobs', 'show'],
      ['jobs', 'wait'],
      ['users', 'add'],
    ];
    const runs = await Promise.all(commands.map((c) => tableport([...c, '--help'])));
    runs.forEach((run, i) => {
      const name = defined(commands[i], 'commands[i]').join(' ') || '(top)';
      assert.equal(run.code, 0, name);
      assert.match(run.stdout, /Usage: tableport/, name);
      assert.match(run.stdout, /Example/, name);
    });
  });
});
