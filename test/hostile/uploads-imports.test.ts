/**
 * Hostile uploads and import files: a broken upload is a 4xx before any job exists; a bad file
 * fails its job once (no retry) as invalid_file / invalid_row with the line and field, never as
 * internal_error, and nothing is written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createTable, waitForJob } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { Job } from '../../src/types/api.js';
import { Tally, assertUp, expectRefused, multipart, raw, snapshot } from './hostile-helpers.js';

const KIB = 1024;

describe('hostile uploads and import files', () => {
  let server: TestServer;
  let token: string;
  const logs: string[] = [];
  const tally = new Tally();
  let n = 0;

  before(async () => {
    server = await startTestServer({
      env: { MAX_CELL_BYTES: String(64 * KIB), LOG_LEVEL: 'debug' },
      logTo: { write: (l) => void logs.push(l) },
    });
    ({ token } = await server.createUser());
  });
  after(async () => {
    console.log(tally.summary('hostile uploads and import files'));
    assert.equal(tally.crashes, 0);
    await server?.close();
  });

  async function upload(tableId: number, body: Buffer | string, headers: Record<string, string>) {
    return raw(server, 'POST', `/oserve/v1/table/${tableId}/import/`, { token, headers, body });
  }

  /** Imports `content` into a fresh table; returns the ended job and how many attempts it took. */
  async function importFails(name: string, content: string | Buffer): Promise<{ job: Job; attempts: number; tableId: number }> {
    const tableId = await createTable(server, token, `imp_${++n}`);
    const { body, type } = multipart(name, content);
    const res = await upload(tableId, body, { 'content-type': type });
    assert.equal(res.status, 201, res.text);
    const job = await waitForJob(server, token, res.body.job_id as string);
    tally.record(`import ${name}`, { status: job.status === 'failed' ? 400 : 201 });
    assert.equal(job.status, 'failed', JSON.stringify(job.errors));
    const rows = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tableport_data.t_${tableId}`);
    assert.equal(rows.rows[0]?.n, 0, 'no row written');
    const a = await server.db.query<{ attempts: number }>('SELECT attempts FROM tableport.jobs WHERE id = $1', [job.id]);
    return { job, attempts: a.rows[0]?.attempts ?? -1, tableId };
  }

  it('broken multipart is 400 invalid_upload: no boundary, cut short, gzip-encoded; nothing is kept', async () => {
    const tableId = await createTable(server, token, 'uploads');
    const before_ = await snapshot(server);
    const { body, type } = multipart('a.csv', 'title\nx\n');
    const cases: Array<[string, Buffer, Record<string, string>]> = [
      ['no boundary', body, { 'content-type': 'multipart/form-data' }],
      ['truncated', body.subarray(0, body.length - 30), { 'content-type': type }],
      ['truncated in the headers', body.subarray(0, 40), { 'content-type': type }],
      ['gzip-encoded', gzipSync(body), { 'content-type': type, 'content-encoding': 'gzip' }],
      ['wrong boundary', body, { 'content-type': 'multipart/form-data; boundary=nothere' }],
    ];
    for (const [what, b, headers] of cases) {
      const res = await upload(tableId, b, headers);
      tally.record(what, res);
      assert.ok(res.status === 400, `${what}: ${res.status} ${res.text}`);
      assert.ok(['invalid_upload', 'invalid_parameter'].includes(res.body.error_code as string), `${what}: ${res.text}`);
    }
    for (const name of ['a%0D%0Ab.csv', 'a%00b.csv', 'a%0Ab.csv']) {
      const head = `--B\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''${name}\r\n\r\n`;
      const res = await upload(tableId, Buffer.from(`${head}title\nx\n\r\n--B--\r\n`), {
        'content-type': 'multipart/form-data; boundary=B',
      });
      expectRefused(tally, `file name ${name}`, res, 400, 'invalid_upload');
    }
    await assertUp(server, token);
    assert.equal(await snapshot(server), before_);
  });

  it('a UTF-8 file name is kept as sent, not read as latin1', async () => {
    const tableId = await createTable(server, token, 'utf8names');
    const { body, type } = multipart('données-导出.csv', 'title\nx\n');
    const res = await upload(tableId, body, { 'content-type': type });
    assert.equal(res.status, 201, res.text);
    const job = await waitForJob(server, token, res.body.job_id as string);
    assert.equal(job.file_name, 'données-导出.csv');
  });

  it('an unclosed quote in the only data row says so, not that the file is empty', async () => {
    const tableId = await createTable(server, token, 'quotes');
    const { body, type } = multipart('q.csv', 'title,qty\n"never closed,1\n');
    const res = await upload(tableId, body, { 'content-type': type });
    expectRefused(tally, 'unclosed quote', res, 400, 'invalid_file');
    assert.match(res.body.error_msg as string, /never closed/);
    assert.doesNotMatch(res.body.error_msg as string, /empty/);
  });

  it('[1e1000000] in a CSV array cell is a row error with line and field, not internal_error, and is not logged', async () => {
    const { job, attempts } = await importFails('huge.csv', 'title,tags\nok,[1]\nbad,[1e1000000]\n');
    assert.equal(attempts, 1, 'no retry');
    assert.equal(job.errors[0]?.error_code, 'invalid_row');
    assert.equal(job.errors[0]?.line, 3);
    assert.equal(job.errors[0]?.field, 'tags');
    assert.ok(!logs.some((l) => l.includes('1e1000000')), 'the cell value reached the log');
  });

  it('[1e400] in a JSON import is refused with line and field instead of becoming [null]', async () => {
    const { job, attempts } = await importFails('huge.json', '[\n{"title": "ok", "tags": [1]},\n{"title": "bad", "tags": [1e400]}\n]');
    assert.equal(attempts, 1);
    assert.equal(job.errors[0]?.error_code, 'invalid_row');
    assert.equal(job.errors[0]?.line, 3);
    assert.equal(job.errors[0]?.field, 'tags');
  });

  it('a 100,000-deep JSON array in an import is invalid_file with the line: at upload, or in the job, failing once', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    // In the first 64 KiB the upload check sees it.
    const tableId = await createTable(server, token, 'deep_head');
    const { body, type } = multipart('deep.json', `[\n{"title": "a"},\n{"title": "b", "tags": ${deep}}\n]`);
    const res = await upload(tableId, body, { 'content-type': type });
    expectRefused(tally, 'deep JSON at upload', res, 400, 'invalid_file');
    assert.match(res.body.error_msg as string, /line 3/);
    // Past them, the job meets it.
    const filler = Array.from({ length: 5000 }, (_, i) => `{"title": "row ${i}"},`).join('\n');
    const { job, attempts } = await importFails('deep2.json', `[\n${filler}\n{"title": "b", "tags": ${deep}}\n]`);
    assert.equal(attempts, 1);
    assert.equal(job.errors[0]?.error_code, 'invalid_file');
    assert.match(job.errors[0]?.error_msg ?? '', /line 5002/);
  });

  it('a cell over MAX_CELL_BYTES is a row error with line and field, in CSV and JSON', async () => {
    const big = 'x'.repeat(200 * KIB);
    const csv = await importFails('big.csv', `qty,title\n1,small\n2,"${big}"\n3,after\n`);
    assert.equal(csv.attempts, 1);
    assert.equal(csv.job.errors[0]?.error_code, 'invalid_row');
    // Caught by the tokenizer's cap or by the row's value check, depending on where a read chunk ends.
    assert.match(csv.job.errors[0]?.error_msg ?? '', /^line 3(, title: |: field "title" ).*MAX_CELL_BYTES/);
    const js = await importFails('big.json', `[\n{"title": "small"},\n{"title": "${big}"}\n]`);
    assert.equal(js.job.errors[0]?.error_code, 'invalid_row');
    // Caught by the tokenizer's cap or by the row's value check, depending on where a read chunk ends.
    assert.match(js.job.errors[0]?.error_msg ?? '', /^line 3(, title: |: field "title" ).*MAX_CELL_BYTES/);
    const row = await importFails('bigrow.json', `[\n{"title": "small"},\n{"title": "${'y'.repeat(300 * KIB)}"}\n]`);
    assert.equal(row.job.errors[0]?.error_code, 'invalid_row');
    assert.match(row.job.errors[0]?.error_msg ?? '', /line 3/);
  });
});
