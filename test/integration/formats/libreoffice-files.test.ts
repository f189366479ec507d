/**
 * Files as LibreOffice Calc writes them (test/fixtures/formats/libreoffice, each with the command
 * that made it): "Unicode text" (UTF-16 with a BOM, tab-separated), GB18030, Windows-1252 and UTF-8
 * with `;` and decimal commas, and a workbook whose data sheet comes after a cover sheet. Each
 * import is checked by its rows, and by what the job says it read.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { client, createTable } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { importBytes, rowsOf, uniqueName } from './helpers.js';

const SCHEMA = {
  fields: [
    { name: 'name', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'score', type: 'number' },
  ],
};

const fixture = (name: string) => readFile(new URL(`../../fixtures/formats/libreoffice/${name}`, import.meta.url));

const CHINESE = [
  ['张伟', '北京', 3.5],
  ['李娜', '上海市浦东新区', 12],
  ['王芳', '广州，天河', 1234.25],
];
const EUROPEAN = [
  ['Zoë Müller', 'Köln', 3.5],
  ['François', 'Besançon', 12],
  ['Åsa', 'Malmö', 1234.25],
];

const values = (rows: Array<Record<string, unknown>>) =>
  rows.map((r) => [r.name, r.city, r.score]).sort((a, b) => Number(a[2]) - Number(b[2]));

describe('files written by LibreOffice', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  async function imported(file: string, fields: Record<string, string> = {}) {
    const { job, tableId } = await importBytes(server, token, await fixture(file), { schema: SCHEMA, fields, name: file });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    return { job, rows: values(await rowsOf(server, token, tableId)) };
  }

  test('"Unicode text" (UTF-16LE with a BOM, tab-separated) is detected and read', async () => {
    const { job, rows } = await imported('chinese-utf16-tab.txt');
    assert.deepEqual(rows, CHINESE);
    assert.equal(job.encoding, 'utf-16le');
  });

  test('GB18030 (Chinese Excel and WPS) is detected and read', async () => {
    const { job, rows } = await imported('chinese-gb18030.csv');
    assert.deepEqual(rows, CHINESE);
    assert.equal(job.encoding, 'gb18030');
  });

  test('UTF-8 with ";" and decimal commas: the separator is detected, "1.234,25" is 1234.25', async () => {
    const { job, rows } = await imported('european-utf8-semicolon.csv');
    assert.deepEqual(rows, EUROPEAN);
    assert.equal(job.decimal_separator, ',');
  });

  test('Windows-1252 is refused naming it and the option; with encoding=windows-1252 it is read, decimal commas too', async () => {
    const t = await createTable(server, token, uniqueName('western'), SCHEMA);
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .attach('file', await fixture('european-1252-semicolon.csv'), 'european-1252-semicolon.csv');
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error_code, 'invalid_file');
    assert.match(res.body.error_msg, /Windows-1252.*"encoding"/);
    const { job, rows } = await imported('european-1252-semicolon.csv', { encoding: 'windows-1252' });
    assert.deepEqual(rows, EUROPEAN);
    assert.equal(job.encoding, 'windows-1252');
    assert.equal(job.decimal_separator, ',');
  });

  test('an xlsx workbook with a cover sheet first: the data sheet is found by its header', async () => {
    const { job, rows } = await imported('workbook.xlsx');
    assert.deepEqual(rows, CHINESE);
    assert.equal(job.sheet, 'Scores');
  });
});
