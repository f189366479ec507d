/**
 * The contract under hostile files (issue 19, items 4 and 8): an empty file is 400 invalid_file
 * however it comes (an upload, a new table, a location), and text PostgreSQL cannot hold (U+0000,
 * lone surrogates) in a key or a value ends the job as failed with the line and field, within a
 * bound, never a job stuck running; at the records API it is a 4xx, never a 500.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Job } from '../../src/types/api.js';
import { createTable, waitForJob } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Tally, assertUp, expectRefused, multipart, raw, snapshot } from './hostile-helpers.js';

/** A job must end within this: the bug left it running for minutes. */
const JOB_BOUND_MS = 20_000;

describe('hostile files against the contract: empty files, U+0000 and lone surrogates', () => {
  let server: TestServer;
  let token: string;
  let importDir: string;
  const tally = new Tally();
  let n = 0;

  before(async () => {
    importDir = await mkdtemp(join(tmpdir(), 'tableport-hostile-imports-'));
    server = await startTestServer({ env: { IMPORT_DIR: importDir, JOB_ATTEMPTS: '1' } });
    ({ token } = await server.createUser());
  });
  after(async () => {
    console.log(tally.summary('hostile files against the contract'));
    assert.equal(tally.crashes, 0);
    await server?.close();
    await rm(importDir, { recursive: true, force: true });
  });

  const json = (body: unknown) => ({ token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function upload(path: string, name: string, content: string | Buffer, fields: Record<string, string> = {}) {
    const { body, type } = multipart(name, content);
    // Fields before the file, as a browser's form sends them.
    const head = Object.entries(fields)
      .map(([k, v]) => `--hostileboundary42\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('');
    return raw(server, 'POST', path, { token, headers: { 'content-type': type }, body: Buffer.concat([Buffer.from(head), body]) });
  }

  /** Uploads into a fresh table; the job must end `failed` within the bound. Returns it. */
  async function importFails(name: string, content: string | Buffer): Promise<Job> {
    const tableId = await createTable(server, token, `c_${++n}`);
    const res = await upload(`/oserve/v1/table/${tableId}/import/`, name, content);
    assert.equal(res.status, 201, res.text);
    const job = await waitForJob(server, token, res.body.job_id as string, JOB_BOUND_MS);
    tally.record(`import ${name}`, { status: job.status === 'failed' ? 400 : 201 });
    assert.equal(job.status, 'failed', JSON.stringify(job.errors));
    const rows = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tableport_data.t_${tableId}`);
    assert.equal(rows.rows[0]?.n, 0, 'no row written');
    return job;
  }

  it('a 0-byte upload is 400 invalid_file: into a table, and as a new table (which is not left behind)', async () => {
    const before_ = await snapshot(server);
    const tableId = await createTable(server, token, 'empty_target');
    const into = await upload(`/oserve/v1/table/${tableId}/import/`, 'empty.csv', '');
    expectRefused(tally, '0 bytes into a table', into, 400, 'invalid_file');
    assert.match(into.body.error_msg as string, /^The file is empty \(0 bytes\)/);
    const asNew = await upload('/oserve/v1/table/import/', 'empty.ndjson', '', { name: 'from_nothing' });
    expectRefused(tally, '0 bytes as a new table', asNew, 400, 'invalid_file');
    assert.match(asNew.body.error_msg as string, /^The file is empty \(0 bytes\)/);
    const tables = await raw(server, 'GET', '/oserve/v1/table/?limit=100', { token });
    assert.ok(!(tables.body.objects as Array<{ name: string }>).some((t) => t.name === 'from_nothing'), 'no table left');
    // A header-only CSV and [] are files of 0 rows, as API.md says.
    for (const [name, content] of [
      ['header.csv', 'title,qty\n'],
      ['none.json', '[]'],
    ] as const) {
      const t = await createTable(server, token, `zero_${++n}`);
      const res = await upload(`/oserve/v1/table/${t}/import/`, name, content);
      assert.equal(res.status, 201, res.text);
      const job = await waitForJob(server, token, res.body.job_id as string, JOB_BOUND_MS);
      assert.deepEqual([job.status, job.rows], ['succeeded', 0], name);
    }
    // Nothing but the tables made here changed: no job, no file for the refused uploads.
    const after_ = JSON.parse(await snapshot(server)) as { jobs: number; files: string[] };
    assert.equal(after_.jobs, (JSON.parse(before_) as { jobs: number }).jobs + 2);
    await assertUp(server, token);
  });

  it('a 0-byte object from a location fails its job as invalid_file; a folder passes over its empty _SUCCESS', async () => {
    await mkdir(join(importDir, 'spark'), { recursive: true });
    await writeFile(join(importDir, 'empty.csv'), '');
    await writeFile(join(importDir, 'spark', '_SUCCESS'), '');
    await writeFile(join(importDir, 'spark', 'part-0000.csv'), 'title,qty\na,1\nb,2\n');
    await mkdir(join(importDir, 'nothing'), { recursive: true });
    await writeFile(join(importDir, 'nothing', 'a.csv'), '');
    await writeFile(join(importDir, 'nothing', 'b.csv'), '');

    const source = async (path: string): Promise<Job> => {
      const t = await createTable(server, token, `src_${++n}`);
      const res = await raw(server, 'POST', `/oserve/v1/table/${t}/import/`, json({ source: `file://${importDir}/${path}` }));
      assert.equal(res.status, 201, res.text);
      return waitForJob(server, token, res.body.job_id as string, JOB_BOUND_MS);
    };
    const single = await source('empty.csv');
    assert.equal(single.status, 'failed');
    assert.equal(single.errors[0]?.error_code, 'invalid_file');
    assert.match(single.errors[0]?.error_msg ?? '', /^The file is empty \(0 bytes\)/);

    const spark = await source('spark/');
    assert.deepEqual([spark.status, spark.rows], ['succeeded', 2], JSON.stringify(spark.errors));

    const nothing = await source('nothing/');
    assert.equal(nothing.status, 'failed');
    assert.equal(nothing.errors[0]?.error_code, 'invalid_file');
    assert.match(nothing.errors[0]?.error_msg ?? '', /^a\.csv: The file is empty \(0 bytes\)/);

    // Inference from the folder samples its first file with data, not the empty _SUCCESS first in name order.
    const inferred = await raw(
      server,
      'POST',
      '/oserve/v1/table/import/',
      json({ name: 'from_spark', source: `file://${importDir}/spark/` }),
    );
    assert.equal(inferred.status, 201, inferred.text);
    const job = await waitForJob(server, token, inferred.body.job_id as string, JOB_BOUND_MS);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(job.inferred_schema?.fields, [
      { name: 'title', type: 'string' },
      { name: 'qty', type: 'integer' },
    ]);
    const empty = await raw(
      server,
      'POST',
      '/oserve/v1/table/import/',
      json({ name: 'from_empty', source: `file://${importDir}/empty.csv` }),
    );
    expectRefused(tally, 'inference from an empty object', empty, 400, 'invalid_file');
  });

  it('inference from a folder samples its first file; a later file whose values it did not foresee widens the schema', async () => {
    await mkdir(join(importDir, 'parts'), { recursive: true });
    await writeFile(join(importDir, 'parts', 'a.csv'), 'sku,qty\n1,1\n2,2\n');
    await writeFile(join(importDir, 'parts', 'b.csv'), 'sku,qty\nX-3,3.5\n');
    const res = await raw(server, 'POST', '/oserve/v1/table/import/', json({ name: 'parts', source: `file://${importDir}/parts/` }));
    assert.equal(res.status, 201, res.text);
    const job = await waitForJob(server, token, res.body.job_id as string, JOB_BOUND_MS);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.deepEqual(job.inferred_schema?.fields, [
      { name: 'sku', type: 'string' },
      { name: 'qty', type: 'number' },
    ]);
    const rows = await raw(server, 'GET', `/oserve/v1/table/${res.body.table_id}/record/?order_by=sku`, { token });
    assert.deepEqual(
      (rows.body.objects as Array<Record<string, unknown>>).map((r) => [r.sku, r.qty]),
      [
        ['1', 1],
        ['2', 2],
        ['X-3', 3.5],
      ],
    );
  });

  it('a key holding U+0000 or a lone surrogate fails the job at once, naming the line and the key escaped', async () => {
    // Past the first object, which the upload check reads: the job meets the key.
    const cases: Array<[string, string, number, string]> = [
      ['nul-key.json', '[{"title": "a"},\n{"foo\\u0000bar": 42}]', 2, 'foo\\u0000bar'],
      ['surrogate-key.ndjson', '{"title": "a"}\n{"\\uDFAA": 0}\n', 2, '\\udfaa'],
      ['high-surrogate-key.ndjson', '{"title": "a"}\n{"title": "b"}\n{"x\\uD800y": 1}\n', 3, 'x\\ud800y'],
    ];
    for (const [name, content, line, shown] of cases) {
      const job = await importFails(name, content);
      const [first] = job.errors;
      assert.equal(first?.error_code, 'invalid_row', name);
      assert.equal(first?.line, line, name);
      assert.equal(first?.field, shown, `${name}: the key, escaped`);
      assert.match(
        first?.error_msg ?? '',
        new RegExp(
          `^line ${line}, ${shown.replaceAll('\\', '\\\\')}: not a field of the table: the key holds U\\+0000 or a lone UTF-16 surrogate`,
        ),
      );
      assert.match(first?.error_msg ?? '', /rename or remove the key/);
    }
    // In the first object, the upload check refuses it before a job exists, naming it escaped.
    const t = await createTable(server, token, `first_${++n}`);
    const res = await upload(`/oserve/v1/table/${t}/import/`, 'first.ndjson', '{"foo\\u0000bar": 42}\n');
    expectRefused(tally, 'NUL key in the first object', res, 400, 'invalid_file');
    assert.match(res.body.error_msg as string, /"foo\\u0000bar"/);
  });

  it('a value holding U+0000 or a lone surrogate is a row error with line and field; the report shows it escaped', async () => {
    const job = await importFails(
      'values.ndjson',
      ['{"title": "ok"}', '{"title": "a\\u0000b"}', '{"title": "\\uDC00"}', '{"meta": {"k\\u0000": 1}}', '{"tags": ["\\uD83D"]}', ''].join(
        '\n',
      ),
    );
    assert.deepEqual(
      job.errors.slice(0, 4).map((e) => [e.line, e.field, e.error_code]),
      [
        [2, 'title', 'invalid_row'],
        [3, 'title', 'invalid_row'],
        [4, 'meta', 'invalid_row'],
        [5, 'tags', 'invalid_row'],
      ],
    );
    assert.match(
      job.errors[0]?.error_msg ?? '',
      /^line 2, title: contains the character U\+0000, which PostgreSQL cannot store; remove it/,
    );
    assert.match(job.errors[1]?.error_msg ?? '', /^line 3, title: contains a lone UTF-16 surrogate .*remove it/);
    assert.match(job.errors[2]?.error_msg ?? '', /^line 4, meta: contains the character U\+0000 or a lone UTF-16 surrogate/);
    const report = await fetch(job.error_report_url ?? '');
    assert.equal(report.status, 200);
    const text = Buffer.from(await report.arrayBuffer()).toString('utf8');
    assert.ok(!text.includes('\u0000'), 'no raw NUL in the report');
    const lines = text.split('\n');
    assert.match(lines[1] ?? '', /^,,,,a\\u0000b,/);
    assert.match(lines[2] ?? '', /^,,,,\\udc00,/);
  });

  it('the records API answers such text with a 4xx, never a 500, and stores nothing', async () => {
    const t = await createTable(server, token, 'records_nul');
    const created = await raw(server, 'POST', `/oserve/v1/table/${t}/record/`, json({ id: 'r1', title: 'x' }));
    assert.equal(created.status, 201, created.text);
    const before_ = await snapshot(server);
    const body = (text: string) => ({ token, headers: { 'content-type': 'application/json' }, body: text });
    const cases: Array<[string, string, string, string, number, string]> = [
      ['NUL in a string', 'POST', `/oserve/v1/table/${t}/record/`, '{"title": "a\\u0000b"}', 400, 'invalid_parameter'],
      ['lone surrogate in a string', 'POST', `/oserve/v1/table/${t}/record/`, '{"title": "a\\udfaab"}', 400, 'invalid_parameter'],
      ['NUL in a key', 'POST', `/oserve/v1/table/${t}/record/`, '{"ti\\u0000tle": "a"}', 400, 'invalid_parameter'],
      ['lone surrogate key', 'POST', `/oserve/v1/table/${t}/record/`, '{"\\udfaa": "a"}', 400, 'invalid_parameter'],
      ['NUL in an object key', 'POST', `/oserve/v1/table/${t}/record/`, '{"meta": {"k\\u0000": 1}}', 400, 'invalid_parameter'],
      ['lone surrogate in an array', 'POST', `/oserve/v1/table/${t}/record/`, '{"tags": ["\\ud800"]}', 400, 'invalid_parameter'],
      ['lone surrogate id', 'POST', `/oserve/v1/table/${t}/record/`, '{"id": "\\ud800", "title": "a"}', 400, 'invalid_parameter'],
      ['NUL in a bulk row', 'POST', `/oserve/v1/table/${t}/record/`, '[{"title": "a"}, {"title": "\\u0000"}]', 400, 'invalid_parameter'],
      ['PUT NUL', 'PUT', `/oserve/v1/table/${t}/record/r1/`, '{"title": "a\\u0000b"}', 400, 'invalid_parameter'],
      ['PUT lone surrogate', 'PUT', `/oserve/v1/table/${t}/record/r1/`, '{"title": "\\udc00"}', 400, 'invalid_parameter'],
      ['PUT $append NUL', 'PUT', `/oserve/v1/table/${t}/record/r1/`, '{"tags": {"$append": ["\\u0000"]}}', 400, 'invalid_parameter'],
      ['PUT NUL key', 'PUT', `/oserve/v1/table/${t}/record/r1/`, '{"ti\\u0000tle": "x"}', 400, 'invalid_parameter'],
      ['PUT to an id with U+0000', 'PUT', `/oserve/v1/table/${t}/record/a%00b/`, '{"title": "x"}', 404, 'not_found'],
      ['PUT to a path that is not UTF-8', 'PUT', `/oserve/v1/table/${t}/record/%ED%A0%80/`, '{"title": "x"}', 400, 'invalid_parameter'],
      ['GET an id with U+0000', 'GET', `/oserve/v1/table/${t}/record/a%00b/`, '', 404, 'not_found'],
      ['DELETE an id with U+0000', 'DELETE', `/oserve/v1/table/${t}/record/a%00b/`, '', 404, 'not_found'],
      [
        'where with U+0000',
        'GET',
        `/oserve/v1/table/${t}/record/?where=${encodeURIComponent('{"title": "\\u0000"}')}`,
        '',
        400,
        'invalid_parameter',
      ],
    ];
    for (const [what, method, path, text, status, code] of cases) {
      const res = await raw(server, method, path, text ? body(text) : { token });
      expectRefused(tally, what, res, status, code);
    }
    assert.equal(await snapshot(server), before_, 'nothing stored');
    const row = await raw(server, 'GET', `/oserve/v1/table/${t}/record/r1/`, { token });
    assert.equal(row.body.title, 'x');
  });
});
