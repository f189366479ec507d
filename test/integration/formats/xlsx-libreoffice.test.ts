/**
 * An xlsx export as LibreOffice Calc reads it (the real program, `soffice --headless`), and back:
 * dates from 1000 to 2024, across 1900's January and February (where Excel counts a 1900-02-29 that
 * never was), with and without a time, are date cells LibreOffice shows as the exported values; our
 * import reads the export back exactly, an empty string apart from NULL; and what survives
 * LibreOffice's own round trip (open the export, save it as xlsx) is said as it is.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { convertWithLibreOffice, odsRows, WITHOUT_SOFFICE } from '../../helpers/libreoffice.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { exportBytes, importBytes, rowsOf, tableWith } from './helpers.js';

const SCHEMA = {
  fields: [
    { name: 'at', type: 'date' },
    { name: 'title', type: 'string' },
    { name: 'n', type: 'number' },
  ],
};

/** Dates and timestamps (UTC, to the millisecond), by row id. */
const DATES: Array<[string, string]> = [
  ['d01', '1000-01-01T00:00:00.000Z'],
  ['d02', '1800-06-15T00:00:00.000Z'],
  ['d03', '1800-06-15T12:34:56.789Z'],
  ['d04', '1899-12-31T00:00:00.000Z'],
  ['d05', '1899-12-31T23:59:59.999Z'],
  ['d06', '1900-01-01T00:00:00.000Z'],
  ['d07', '1900-02-28T00:00:00.000Z'],
  ['d08', '1900-02-28T12:00:00.001Z'],
  ['d09', '1900-03-01T00:00:00.000Z'],
  ['d10', '2024-02-29T00:00:00.000Z'],
  ['d11', '2024-02-29T23:59:59.999Z'],
];

/** Every third title is an empty string and every third NULL. */
const ROWS = DATES.map(([id, at], i) => ({ id, at, title: i % 3 === 0 ? '' : i % 3 === 1 ? null : `t${i}`, n: i + 0.5 }));

/**
 * How LibreOffice shows a date with the format yyyy-mm-dd hh:mm:ss.000: the same instant, but
 * before 1582-10-15 in the Julian calendar (PostgreSQL, JavaScript and the xlsx serial day count in
 * the proleptic Gregorian one): 1000-01-01 is shown as 0999-12-27.
 */
const SHOWN: Record<string, string> = { d01: '0999-12-27 00:00:00.000' };

describe('xlsx exports in LibreOffice Calc', { skip: WITHOUT_SOFFICE }, () => {
  let server: TestServer;
  let token: string;
  let dir: string;
  let exported: string;
  let source: Array<Record<string, unknown>>;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
    dir = await mkdtemp(join(tmpdir(), 'tableport-xlsx-lo-'));
    const table = await tableWith(server, token, ROWS, SCHEMA);
    source = await rowsOf(server, token, table);
    assert.deepEqual(
      source.map((r) => [r.id, r.at, r.title]),
      ROWS.map((r) => [r.id, r.at, r.title]),
    );
    const { bytes } = await exportBytes(server, token, table, { file_type: 'xlsx' });
    exported = join(dir, 'export.xlsx');
    await writeFile(exported, bytes);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('LibreOffice reads every date as a date cell and shows the exported value, to the millisecond', async () => {
    const [fods] = await convertWithLibreOffice([exported], 'fods', 'fods');
    const [header, ...rows] = await odsRows(fods as string);
    const names = (header ?? []).map((c) => c.text);
    const at = names.indexOf('at');
    const id = names.indexOf('id');
    assert.ok(at >= 0 && id >= 0, names.join());
    assert.equal(rows.length, DATES.length);
    for (const row of rows) {
      const key = row[id]?.text ?? '';
      const iso = DATES.find(([k]) => k === key)?.[1] ?? '';
      // ODF's date-value: the proleptic Gregorian day (its time is rounded by LibreOffice's writer, so the day only).
      assert.equal(row[at]?.type, 'date', `${key}: ${JSON.stringify(row[at])}`);
      assert.equal(row[at]?.value?.slice(0, 10), iso.slice(0, 10), key);
    }
    // What LibreOffice shows, as its CSV filter writes it ("save cell contents as shown").
    const [csv] = await convertWithLibreOffice([exported], 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true', 'csv');
    const lines = (await readFile(csv as string, 'utf8')).trimEnd().split('\n');
    const csvHeader = (lines[0] ?? '').split(',');
    const shown = new Map(
      lines
        .slice(1)
        .map((l) => l.split(','))
        .map((c) => [c[csvHeader.indexOf('id')], c[csvHeader.indexOf('at')]]),
    );
    for (const [key, iso] of DATES) assert.equal(shown.get(key), SHOWN[key] ?? iso.replace('T', ' ').replace('Z', ''), key);
  });

  test('our import reads the export back as it was: dates to the millisecond, an empty string apart from NULL', async () => {
    const { job, tableId } = await importBytes(server, token, await readFile(exported), { name: 'export.xlsx', schema: SCHEMA });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, DATES.length);
    assert.deepEqual(await rowsOf(server, token, tableId), source);
  });

  test("LibreOffice's round trip (open the export, save it as xlsx) keeps the dates to the millisecond and turns an empty string into no value", async () => {
    const [saved] = await convertWithLibreOffice([exported], 'xlsx', 'xlsx');
    const { job, tableId } = await importBytes(server, token, await readFile(saved as string), { name: 'saved.xlsx', schema: SCHEMA });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const back = await rowsOf(server, token, tableId);
    assert.deepEqual(
      back.map((r) => [r.id, r.at, r.n]),
      source.map((r) => [r.id, r.at, r.n]),
    );
    // LibreOffice has no empty text cell: it saves an empty string as no cell, which reads as NULL.
    assert.deepEqual(
      back.map((r) => r.title),
      source.map((r) => (r.title === '' ? null : r.title)),
    );
    assert.ok(
      source.some((r) => r.title === ''),
      'the source has empty strings',
    );
  });
});
