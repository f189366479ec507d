/**
 * The SDK against a real tableport (PostgreSQL, Redis, BullMQ workers, SMTP): what a user's code
 * does, and what it gets back, down to the rows of the downloaded files.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import {
  InvalidFileError,
  InvalidParameterError,
  JobFailedError,
  NotFoundError,
  TablePort,
  TooFrequentError,
  TooManyRowsError,
  UnauthorizedError,
  type Job,
  type TableRow,
  type TableSchema,
} from '../../../src/sdk/index.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { defined } from '../../helpers/defined.js';

const SCHEMA: TableSchema = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
    { name: 'price', type: 'number' },
    { name: 'paid', type: 'boolean' },
    { name: 'tags', type: 'array' },
  ],
};

describe('SDK against a real server', () => {
  let server: TestServer;
  let tp: TablePort;
  let email: string;
  let dir: string;
  let n = 0;
  const newTable = async (schema = SCHEMA) => tp.createTable({ name: `t${++n}_${Date.now() % 100000}`, schema });

  before(async () => {
    server = await startTestServer({ env: { EXPORT_MAX_ROWS: '5' } });
    const user = await server.createUser();
    email = user.email;
    tp = new TablePort({ baseUrl: server.baseUrl, token: user.token });
    dir = await mkdtemp(join(tmpdir(), 'tp-sdk-it-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('tables: create, get, list, delete; rows: insert one and many, page through them in order', async () => {
    const table = await newTable();
    assert.equal(typeof table.id, 'number');
    assert.deepEqual(
      table.schema.fields.map((f) => f.name),
      ['title', 'qty', 'price', 'paid', 'tags'],
    );

    const one = await tp.table(table.id).insert({ title: 'first', qty: 1, created_at: 1000 });
    assert.equal(one.title, 'first');
    assert.equal(one.created_at, 1000);
    const many = await tp.table(table.id).insert([
      { title: 'second', qty: 2, created_at: 2000 },
      { title: 'third', qty: 3, created_at: 3000, tags: ['x', 'y'] },
    ]);
    assert.equal(many.succeed, 2);
    assert.equal(many.operation_result.length, 2);

    const titles: string[] = [];
    // limit 2 makes the iterator follow `next` to a second page.
    for await (const row of tp.table(table.id).rows({ limit: 2 })) titles.push(String(row.title));
    assert.deepEqual(titles, ['first', 'second', 'third']);

    assert.equal((await tp.getTable(table.id)).row_count, 3);
    const listed: number[] = [];
    for await (const t of tp.tables()) listed.push(t.id);
    assert.ok(listed.includes(table.id));

    await tp.deleteTable(table.id);
    await assert.rejects(tp.getTable(table.id), NotFoundError);
  });

  test('export CSV: job.wait reports progress, download writes the rows, the user is mailed the count', async () => {
    const table = await newTable();
    await tp.table(table.id).insert([
      { title: 'a, "quoted"', qty: 1, price: 1.5, paid: true, tags: ['t'], created_at: 1000 },
      { title: 'b', qty: 2, price: 2.5, paid: false, tags: [], created_at: 2000 },
    ]);
    const job = await tp.table(table.id).export({ fileType: 'csv' });
    assert.ok(job.id);
    const seen: Job[] = [];
    const done = await job.wait({ timeoutMs: 30_000, onProgress: (j) => seen.push(j) });
    assert.equal(done.status, 'succeeded');
    assert.equal(done.rows, 2);
    assert.equal(seen.at(-1)?.status, 'succeeded');

    const out = await job.download(join(dir, 'orders.csv'));
    assert.equal(out.path, join(dir, 'orders.csv'));
    const csv = parse(await readFile(out.path, 'utf8')) as string[][];
    assert.deepEqual(csv[0], ['id', 'created_at', 'updated_at', 'created_by', 'title', 'qty', 'price', 'paid', 'tags']);
    assert.deepEqual(
      csv.slice(1).map((r) => [r[1], r[4], r[5], r[8]]),
      [
        ['1000', 'a, "quoted"', '1', '["t"]'],
        ['2000', 'b', '2', '[]'],
      ],
    );
    assert.equal(out.bytes, (await readFile(out.path)).length);

    const mail = await server.smtp.waitForMessage((m) => m.text.includes(defined(done.file_url, 'done.file_url')), 10_000);
    assert.deepEqual(mail.to, [email]);
    assert.match(mail.text, /\b2\b/);
  });

  test('export JSON of part of the rows: start and end as Date and ISO string, end exclusive', async () => {
    const table = await newTable();
    await tp.table(table.id).insert([1000, 2000, 3000, 4000].map((t) => ({ title: `at ${t}`, qty: t, created_at: t })));
    const job = await tp.table(table.id).export({
      fileType: 'json',
      start: new Date(2000 * 1000),
      end: new Date(4000 * 1000).toISOString(),
    });
    await job.wait({ timeoutMs: 30_000 });
    const out = await job.download(dir);
    assert.match(out.path, /\.json$/);
    const rows = JSON.parse(await readFile(out.path, 'utf8')) as Array<Record<string, unknown>>;
    assert.deepEqual(
      rows.map((r) => [r.created_at, r.qty]),
      [
        [2000, 2000],
        [3000, 3000],
      ],
    );
  });

  test('a second export of a table within a minute is TooFrequentError with the seconds to wait', async () => {
    const table = await newTable();
    await tp.table(table.id).export({ fileType: 'csv' });
    const err = await tp
      .table(table.id)
      .export({ fileType: 'json' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TooFrequentError, String(err));
    assert.equal(err.errorCode, 'too_frequent');
    assert.equal(err.status, 400);
    assert.ok(err.retryAfterSeconds > 0 && err.retryAfterSeconds <= 60, String(err.retryAfterSeconds));
  });

  test('selecting more rows than EXPORT_MAX_ROWS is TooManyRowsError', async () => {
    const table = await newTable();
    await tp.table(table.id).insert(Array.from({ length: 6 }, (_, i) => ({ title: `r${i}` })));
    const err = await tp
      .table(table.id)
      .export({ fileType: 'csv' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TooManyRowsError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.limit, 5);
  });

  test('a bad file_type is InvalidParameterError naming file_type', async () => {
    const table = await newTable();
    const err = await tp
      .table(table.id)
      .export({ fileType: 'xml' as 'csv' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof InvalidParameterError, String(err));
    assert.equal(err.parameter, 'file_type');
  });

  test('a table that is not yours is NotFoundError; a bad token is UnauthorizedError', async () => {
    const table = await newTable();
    const other = await server.createUser();
    const theirs = new TablePort({ baseUrl: server.baseUrl, token: other.token });
    const err = await theirs
      .table(table.id)
      .export({ fileType: 'csv' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof NotFoundError, String(err));
    assert.equal(err.status, 404);
    const bad = new TablePort({ baseUrl: server.baseUrl, token: 'not-a-token' });
    const err2 = await bad.listTables().catch((e: unknown) => e);
    assert.ok(err2 instanceof UnauthorizedError, String(err2));
    assert.equal(err2.status, 401);
  });

  test('import CSV from a Buffer and JSON from a path: the rows land in the table', async () => {
    const table = await newTable();
    const csv = 'title,qty,price,paid,tags\nfrom csv,7,0.5,true,"[""a""]"\n';
    const j1 = await tp.table(table.id).import(Buffer.from(csv), { filename: 'rows.csv' });
    const done1 = await j1.wait({ timeoutMs: 30_000 });
    assert.equal(done1.type, 'import');
    assert.equal(done1.rows, 1);

    const table2 = await newTable();
    const path = join(dir, 'rows.json');
    await writeFile(
      path,
      JSON.stringify([
        { title: 'from json', qty: 8, created_at: 5000 },
        { title: 'second', qty: 9, created_at: 6000 },
      ]),
    );
    const done2 = await (await tp.table(table2.id).import(path)).wait({ timeoutMs: 30_000 });
    assert.equal(done2.rows, 2);

    const rows1: TableRow[] = [];
    for await (const r of tp.table(table.id).rows()) rows1.push(r);
    assert.deepEqual(
      rows1.map((r) => [r.title, r.qty, r.price, r.paid, r.tags]),
      [['from csv', 7, 0.5, true, ['a']]],
    );
    const rows2: TableRow[] = [];
    for await (const r of tp.table(table2.id).rows()) rows2.push(r);
    assert.deepEqual(
      rows2.map((r) => [r.title, r.qty, r.created_at]),
      [
        ['from json', 8, 5000],
        ['second', 9, 6000],
      ],
    );
  });

  test('an import with a bad row fails as a whole: JobFailedError names the line, no row is written', async () => {
    const table = await newTable();
    const csv = 'title,qty\nok,1\nbad,not-a-number\nok too,3\n';
    const job = await tp.table(table.id).import(Buffer.from(csv), { filename: 'bad.csv' });
    const err = await job.wait({ timeoutMs: 30_000 }).catch((e: unknown) => e);
    assert.ok(err instanceof JobFailedError, String(err));
    assert.equal(err.job.status, 'failed');
    const rowError = err.errors.find((e) => e.line !== undefined);
    assert.equal(rowError?.line, 3);
    assert.equal(rowError?.field, 'qty');
    assert.equal((await tp.getTable(table.id)).row_count, 0);
  });

  test('a file with columns the table does not have is InvalidFileError', async () => {
    const table = await newTable();
    const err = await tp
      .table(table.id)
      .import(Buffer.from('nope,title\n1,a\n'), { filename: 'x.csv' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof InvalidFileError, String(err));
    assert.equal(err.status, 400);
  });
});
