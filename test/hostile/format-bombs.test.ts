/**
 * Files made to exhaust an import, sent as a user would, against a real API and a worker process
 * under the production heap flags (`--max-old-space-size=256 --max-semi-space-size=8`): the xlsx
 * whose shared strings never end, the Parquet page bomb, gzip uploads that inflate past the upload
 * limit, Parquet files with flipped bytes (refused at upload, or by their job), and values no
 * table can store (NaN). Each must end as a user can read it (the job's status and error_code,
 * within a deadline; or the upload's 400) with the worker's memory
 * peak (VmHWM, reset before each case) bounded, and a cancelled import must stop.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { createParquetExportWriter } from '../../src/formats/parquet/index.js';
import { createXlsxExportWriter } from '../../src/formats/xlsx/index.js';
import type { Job } from '../../src/types/api.js';
import { createTable } from '../helpers/api.js';
import { endlessSharedString, gzipOf, parquetGzipBomb, repeated, xlsxWith } from '../helpers/hostile-files.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startChildWorker } from '../helpers/workers.js';
import { collect, tempDir } from '../unit/formats/parquet/awkward-rows.js';
import { multipart, raw } from './hostile-helpers.js';
import { sleep } from '../helpers/wait.js';

const MB = 1024 * 1024;
/** What the production start script gives node (package.json "start"). */
const PRODUCTION_HEAP = ['--max-old-space-size=256', '--max-semi-space-size=8'];
const UPLOAD_MAX_BYTES = 64 * MB;
const dir = tempDir('tableport-bombs-');

/** The worker's resident memory now and at its peak since the last reset, in MB (Linux /proc). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** The row errors of a job (the list also ends with a sentence for the whole file). */
function rowErrors(j: Job): Array<[string, number | undefined, string | undefined]> {
  return j.errors.filter((e) => e.line !== undefined).map((e) => [e.error_code, e.line, e.field]);
}

/** Sets the worker's peak back to what it holds now, so the next peak is the next case's own. */
function resetPeak(pid: number): number {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  return memory(pid).rss;
}

describe('format bombs against an API and a worker with the production heap', () => {
  let server: TestServer;
  let worker: ChildProcess;
  let pid = 0;
  let token = '';
  let n = 0;

  before(async () => {
    server = await startTestServer({ roles: ['api'], env: { UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES) } });
    ({ token } = await server.createUser());
    worker = await startChildWorker(server, PRODUCTION_HEAP);
    pid = worker.pid ?? 0;
  });

  after(async () => {
    worker?.kill('SIGKILL');
    await server?.close();
  });

  async function job(id: string): Promise<Job> {
    const res = await raw(server, 'GET', `/oserve/v1/jobs/${id}`, { token });
    assert.equal(res.status, 200, res.text);
    return res.body as unknown as Job;
  }

  /** Polls the job until it ends; fails past `seconds` (a deadline on the wait). */
  async function ended(id: string, seconds: number): Promise<Job> {
    const until = Date.now() + seconds * 1000;
    for (;;) {
      const j = await job(id);
      if (j.status === 'succeeded' || j.status === 'failed' || j.status === 'cancelled') return j;
      assert.ok(Date.now() < until, `job ${id} still ${j.status} after ${seconds} s`);
      await sleep(100);
    }
  }

  async function upload(
    tableId: number,
    name: string,
    content: Buffer,
  ): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
    const { body, type } = multipart(name, content);
    return raw(server, 'POST', `/oserve/v1/table/${tableId}/import/`, { token, headers: { 'content-type': type }, body });
  }

  /** Imports `content` into a fresh table of `fields`; the ended job, the table, and the worker's peak above its memory before. */
  async function importEnds(
    name: string,
    content: Buffer,
    fields: Array<{ name: string; type: string }>,
    seconds = 20,
  ): Promise<{ job: Job; tableId: number; peakAbove: number }> {
    const tableId = await createTable(server, token, `bomb_${++n}`, { fields });
    const base = resetPeak(pid);
    const res = await upload(tableId, name, content);
    assert.equal(res.status, 201, res.text);
    const j = await ended(res.body.job_id as string, seconds);
    return { job: j, tableId, peakAbove: memory(pid).peak - base };
  }

  async function rowCount(tableId: number): Promise<number> {
    const r = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tableport_data.t_${tableId}`);
    return r.rows[0]?.n ?? -1;
  }

  it('a 300 KB xlsx whose shared string inflates to 300 MB is refused at upload as invalid_file naming the part and the limit', async () => {
    const file = join(dir(), 'sst-bomb.xlsx');
    await xlsxWith(file, endlessSharedString(300 * MB));
    const bytes = await readFile(file);
    assert.ok(bytes.length < 400 * 1024, `${bytes.length} bytes`);
    // The upload looks for the sheet to read (its header must match the table), so the API reads
    // the shared strings and refuses the file before any job exists; bounded as the worker is.
    const tableId = await createTable(server, token, `bomb_${++n}`, { fields: [{ name: 'title', type: 'string' }] });
    const base = resetPeak(process.pid);
    const res = await upload(tableId, 'sst-bomb.xlsx', bytes);
    const peakAbove = memory(process.pid).peak - base;
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error_code, 'invalid_file');
    assert.match(String(res.body.error_msg), /xl\/sharedStrings\.xml\) are larger than the limit of 64 MB/);
    assert.equal(await rowCount(tableId), 0);
    assert.ok(peakAbove < 100, `the API's peak rose by ${Math.round(peakAbove)} MB`);
    assert.equal((await raw(server, 'GET', '/healthz', {})).status, 200, 'the API still answers');
    console.log(`xlsx shared-strings bomb: ${bytes.length} bytes, refused at upload, API peak +${Math.round(peakAbove)} MB`);
  });

  it('shared strings under their cap (60 MB) are read within the heap, and the import goes on', async () => {
    const file = join(dir(), 'big-sst.xlsx');
    // 3 million two-character strings (a CJK character and a digit): about as many as 60 MB of XML holds.
    const items = (function* () {
      yield '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>title</t></si>';
      let chunk = '';
      for (let i = 0; i < 3_000_000; i++) {
        chunk += `<si><t>${String.fromCharCode(0x4e00 + (i % 20000))}${i % 10}</t></si>`;
        if (chunk.length > 1 << 20) {
          yield chunk;
          chunk = '';
        }
      }
      yield `${chunk}</sst>`;
    })();
    await xlsxWith(file, Readable.from(items));
    const { job: j, tableId, peakAbove } = await importEnds('big-sst.xlsx', await readFile(file), [{ name: 'title', type: 'string' }], 60);
    assert.equal(j.status, 'succeeded', JSON.stringify(j.errors));
    assert.equal(await rowCount(tableId), 1);
    assert.ok(peakAbove < 250, `the worker's peak rose by ${Math.round(peakAbove)} MB`);
    console.log(`xlsx with 3M shared strings: worker peak +${Math.round(peakAbove)} MB`);
  });

  it('a 917 KB Parquet file whose GZIP page inflates to 900 MB is refused at upload, or by its job when its header lies', async () => {
    // Its header says 900 MB: the upload's check of page headers refuses it before a job exists.
    const honest = await parquetGzipBomb(900 * MB);
    assert.ok(honest.length < 1000 * 1024, `${honest.length} bytes`);
    const tableId = await createTable(server, token, `bomb_${++n}`, { fields: [{ name: 'x', type: 'number' }] });
    const res = await upload(tableId, 'bomb.parquet', honest);
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error_code, 'invalid_file');
    assert.match(res.body.error_msg as string, /inflates to 943718400 bytes, more than the limit of 134217728 bytes/);
    // Its header says 1 MB: the job's inflater stops there.
    const lying = await parquetGzipBomb(900 * MB, MB);
    const started = Date.now();
    const { job: j, tableId: lyingTable, peakAbove } = await importEnds('bomb-lying.parquet', lying, [{ name: 'x', type: 'number' }]);
    assert.equal(j.status, 'failed');
    assert.equal(j.errors[0]?.error_code, 'invalid_file');
    assert.match(j.errors[0]?.error_msg ?? '', /does not inflate to the 1048576 bytes its header declares/);
    assert.equal(await rowCount(lyingTable), 0);
    assert.ok(peakAbove < 100, `the worker's peak rose by ${Math.round(peakAbove)} MB`);
    console.log(
      `Parquet page bomb: ${honest.length} bytes refused at upload; lying header: failed in ${Date.now() - started} ms, worker peak +${Math.round(peakAbove)} MB`,
    );
  });

  it('a gzip upload that inflates past UPLOAD_MAX_BYTES fails as invalid_file saying so, whatever its format', async () => {
    const csv = await gzipOf(repeated(256 * MB, 0x0a, 'title\n'));
    const parquet = await gzipOf(repeated(256 * MB, 0, 'PAR1'));
    for (const [name, bytes] of [
      ['blank-lines.csv.gz', csv],
      ['zeros.parquet.gz', parquet],
    ] as const) {
      const { job: j, peakAbove } = await importEnds(name, bytes, [{ name: 'title', type: 'string' }]);
      assert.equal(j.status, 'failed', name);
      assert.equal(j.errors[0]?.error_code, 'invalid_file', name);
      assert.match(j.errors[0]?.error_msg ?? '', /inflates to more than 67108864 bytes, the limit for one file \(UPLOAD_MAX_BYTES\)/, name);
      assert.ok(peakAbove < 100, `${name}: the worker's peak rose by ${Math.round(peakAbove)} MB`);
    }
  });

  it('a cancelled xlsx import stops within 10 s, writes nothing, and frees the worker', async () => {
    const columns = [
      { name: 'title', type: 'string' as const },
      { name: 'qty', type: 'integer' as const },
    ];
    const lines = (function* () {
      for (let i = 0; i < 400_000; i++) yield Buffer.from(`row ${i} ${'x'.repeat(i % 40)},${i}\n`);
    })();
    const bytes = Buffer.concat(await collect(Readable.from(lines).pipe(createXlsxExportWriter({ tableName: 't', columns }))));
    const tableId = await createTable(server, token, `bomb_${++n}`, { fields: columns });
    const res = await upload(tableId, 'long.xlsx', bytes);
    assert.equal(res.status, 201, res.text);
    const id = res.body.job_id as string;
    for (let until = Date.now() + 20_000; (await job(id)).status !== 'running'; ) {
      assert.ok(Date.now() < until, 'the import never started');
      await sleep(20);
    }
    const cancelledAt = Date.now();
    const c = await raw(server, 'POST', `/oserve/v1/jobs/${id}/cancel`, { token });
    assert.equal(c.status, 200, c.text);
    const j = await ended(id, 10);
    assert.equal(j.status, 'cancelled');
    assert.equal(await rowCount(tableId), 0);
    // The slot is free: a small import right after runs to its end.
    const next = await importEnds('small.csv', Buffer.from('title\nafter\n'), [{ name: 'title', type: 'string' }]);
    assert.equal(next.job.status, 'succeeded', JSON.stringify(next.job.errors));
    console.log(`cancelled xlsx import: ${bytes.length} bytes, cancelled after ${Date.now() - cancelledAt} ms (the next import included)`);
  });

  it('Parquet files with flipped bytes are refused as invalid_file or imported equal to the original: 32 variants', async () => {
    const duck = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
    try {
      const duckFile = join(dir(), 'duck.parquet');
      await duck.run(
        `COPY (SELECT i::BIGINT AS n, CASE WHEN i % 7 = 0 THEN NULL ELSE 'name ' || (i % 10) END AS name, (i * 1.5)::DOUBLE AS score,
           i % 2 = 0 AS flag, CASE WHEN i % 5 = 0 THEN NULL ELSE [i, i + 1] END AS tags FROM range(200) t(i))
         TO '${duckFile}' (FORMAT PARQUET, COMPRESSION 'gzip')`,
      );
      const duckFields = [
        { name: 'n', type: 'integer' },
        { name: 'name', type: 'string' },
        { name: 'score', type: 'number' },
        { name: 'flag', type: 'boolean' },
        { name: 'tags', type: 'array' },
      ];
      const ourFields = [
        { name: 'title', type: 'string' },
        { name: 'qty', type: 'integer' },
      ];
      const ourRows = Array.from({ length: 200 }, (_v, i) => ({
        id: `r${i}`,
        created_at: 1_700_000_000 + i,
        updated_at: 1_700_000_000 + i,
        created_by: 'u',
        title: i % 9 ? `t${i}` : null,
        qty: i,
      }));
      const ours = Buffer.concat(
        await collect(
          Readable.from(ourRows).pipe(
            createParquetExportWriter({
              tableName: 't',
              fields: [],
              columns: [
                { name: 'id', type: 'string' },
                { name: 'created_at', type: 'integer' },
                { name: 'updated_at', type: 'integer' },
                { name: 'created_by', type: 'string' },
                { name: 'title', type: 'string' },
                { name: 'qty', type: 'integer' },
              ],
            }),
          ),
        ),
      );
      const outcome = { atUpload: 0, failed: 0, equal: 0 };
      for (const [name, bytes, fields, key] of [
        ['duckdb', await readFile(duckFile), duckFields, 'n'],
        ['tableport', ours, ourFields, 'id'],
      ] as const) {
        const snapshotOf = async (tableId: number) => {
          const cols = fields.map((f) => `"${f.name}"`).join(', ');
          const r = await server.db.query<{ h: string }>(
            `SELECT md5(string_agg(row(${key === 'id' ? 'id, created_at, ' : ''}${cols})::text, '|' ORDER BY ${key})) AS h FROM tableport_data.t_${tableId}`,
          );
          return r.rows[0]?.h;
        };
        const original = await importEnds(`${name}.parquet`, bytes, [...fields]);
        assert.equal(original.job.status, 'succeeded', JSON.stringify(original.job.errors));
        const expected = await snapshotOf(original.tableId);
        for (let k = 0; k < 16; k++) {
          const at = Math.floor(((k + 0.5) * bytes.length) / 16);
          const flipped = Buffer.from(bytes);
          flipped[at] = (flipped[at] as number) ^ 0xff;
          const tableId = await createTable(server, token, `bomb_${++n}`, { fields: [...fields] });
          const res = await upload(tableId, `${name}-${at}.parquet`, flipped);
          if (res.status === 400) {
            assert.equal(res.body.error_code, 'invalid_file', `${name} byte ${at}: ${res.text}`);
            outcome.atUpload++;
            continue;
          }
          assert.equal(res.status, 201, res.text);
          const j = await ended(res.body.job_id as string, 20);
          if (j.status === 'failed') {
            assert.equal(j.errors[0]?.error_code, 'invalid_file', `${name} byte ${at}: ${JSON.stringify(j.errors)}`);
            assert.equal(await rowCount(tableId), 0);
            outcome.failed++;
          } else {
            assert.equal(j.status, 'succeeded', `${name} byte ${at}`);
            assert.equal(await snapshotOf(tableId), expected, `${name} byte ${at}: imported, but not equal to the original`);
            outcome.equal++;
          }
        }
      }
      assert.equal(outcome.atUpload + outcome.failed + outcome.equal, 32);
      assert.ok(outcome.atUpload + outcome.failed >= 16, JSON.stringify(outcome));
      // The footer and page headers are checked at upload: damage there is a 400 before any job.
      assert.ok(outcome.atUpload > 0, JSON.stringify(outcome));
      console.log(`Parquet flips: ${JSON.stringify(outcome)}`);
    } finally {
      duck.closeSync();
    }
  });

  it('NaN from Parquet and xlsx is a row error naming line and field, and stored values never make GET record 500', async () => {
    const fixture = (name: string) => readFile(new URL(`../fixtures/formats/${name}`, import.meta.url));
    // into a number column, and into a table whose schema is inferred from the file
    const nan = await fixture('parquet-testing-nan_in_stats.parquet');
    const typed = await importEnds('nan_in_stats.parquet', nan, [{ name: 'x', type: 'number' }]);
    assert.equal(typed.job.status, 'failed');
    assert.deepEqual(rowErrors(typed.job), [['invalid_row', 2, 'x']]);
    for (const name of ['parquet-testing-nan_in_stats.parquet', 'parquet-testing-float16_nonzeros_and_nans.parquet']) {
      const file = await fixture(name);
      const head = `--B\r\nContent-Disposition: form-data; name="name"\r\n\r\ninferred_${++n}\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n\r\n`;
      const body = Buffer.concat([Buffer.from(head), file, Buffer.from('\r\n--B--\r\n')]);
      const res = await raw(server, 'POST', '/oserve/v1/table/import/', {
        token,
        headers: { 'content-type': 'multipart/form-data; boundary=B' },
        body,
      });
      assert.equal(res.status, 201, res.text);
      const j = await ended(res.body.job_id as string, 20);
      assert.equal(j.status, 'failed', name);
      assert.equal(j.errors[0]?.error_code, 'invalid_row', name);
      assert.equal(j.errors[0]?.field, 'x', name);
      assert.match(j.errors[0]?.error_msg ?? '', /is NaN, which a table cannot store/);
      const records = await raw(server, 'GET', `/oserve/v1/table/${res.body.table_id}/record/`, { token });
      assert.equal(records.status, 200, records.text);
    }
    // an xlsx cell holding NaN
    const sheet =
      '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' +
      '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row><row r="2"><c r="A2"><v>1.5</v></c></row><row r="3"><c r="A3"><v>NaN</v></c></row>' +
      '</sheetData></worksheet>';
    const xlsx = join(dir(), 'nan.xlsx');
    await xlsxWith(xlsx, '<sst/>', sheet);
    const cell = await importEnds('nan.xlsx', await readFile(xlsx), [{ name: 'x', type: 'number' }]);
    assert.deepEqual(rowErrors(cell.job), [['invalid_row', 3, 'x']]);
    // Values already stored (NaN and ±Infinity in a number column), in fields named like the SQL's own aliases.
    const tableId = await createTable(server, token, `stored_${++n}`, {
      fields: [
        { name: 'x', type: 'number' },
        { name: 'r', type: 'string' },
        { name: 'v', type: 'array' },
      ],
    });
    await server.db.query(
      `INSERT INTO tableport_data.t_${tableId} (id, created_at, updated_at, created_by, x, r, v)
       VALUES ('a', 1, 1, 'u', 'NaN', 'one', '["c"]'), ('b', 2, 2, 'u', 'Infinity', 'two', '["d"]'), ('c', 3, 3, 'u', '-Infinity', 'three', '[]')`,
    );
    const list = await raw(server, 'GET', `/oserve/v1/table/${tableId}/record/?order_by=created_at`, { token });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(
      (list.body.objects as Array<Record<string, unknown>>).map((o) => [o.x, o.r]),
      [
        ['NaN', 'one'],
        ['Infinity', 'two'],
        ['-Infinity', 'three'],
      ],
    );
    const one = await raw(server, 'GET', `/oserve/v1/table/${tableId}/record/a/`, { token });
    assert.equal(one.status, 200, one.text);
    const where = encodeURIComponent(JSON.stringify({ v: { $in: ['c'] } }));
    const found = await raw(server, 'GET', `/oserve/v1/table/${tableId}/record/?where=${where}`, { token });
    assert.equal(found.status, 200, found.text);
    assert.deepEqual(
      (found.body.objects as Array<Record<string, unknown>>).map((o) => o.id),
      ['a'],
    );
  });
});
