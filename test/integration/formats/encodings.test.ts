/**
 * Text files in the encodings spreadsheet programs save them in, made by glibc's `iconv` from the
 * same UTF-8 text: UTF-16 with a BOM and little-endian (what `iconv -t UTF-16` writes, byte for byte
 * what Excel's "Unicode Text" is), UTF-16 without one, GB18030 (Chinese Excel and WPS), Big5,
 * Shift_JIS and Windows-1252. Each import is checked by its rows and by the job's `encoding`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { client, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { importBytes, rowsOf, uniqueName } from './helpers.js';

const SCHEMA = {
  fields: [
    { name: 'name', type: 'string' },
    { name: 'city', type: 'string' },
    { name: 'qty', type: 'integer' },
  ],
};

/** `text` in `encoding`, as iconv writes it. */
function iconv(text: string, encoding: string): Buffer {
  return execFileSync('iconv', ['-f', 'UTF-8', '-t', encoding], { input: text });
}

const CHINESE = 'name,city,qty\n张三,北京,3\n李四,上海市浦东新区,5\n王五,"广州,天河",7\n';
const CHINESE_ROWS = [
  ['张三', '北京', 3],
  ['李四', '上海市浦东新区', 5],
  ['王五', '广州,天河', 7],
];

function values(rows: Array<Record<string, unknown>>): unknown[][] {
  return rows.map((r) => [r.name, r.city, r.qty]).sort((a, b) => Number(a[2]) - Number(b[2]));
}

describe('file encodings', () => {
  let server: TestServer;
  let token: string;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-encodings-'));
    server = await startTestServer({ env: { IMPORT_DIR: dir } });
    ({ token } = await server.createUser());
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function imported(bytes: Buffer, fields: Record<string, string> = {}, name = 'people.csv') {
    const { job, tableId } = await importBytes(server, token, bytes, { schema: SCHEMA, fields, name });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    return { job, rows: values(await rowsOf(server, token, tableId)) };
  }

  async function refused(bytes: Buffer, fields: Record<string, string> = {}) {
    const t = await client(server, token)
      .post('/oserve/v1/table/')
      .send({ name: uniqueName('enc'), schema: SCHEMA });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    let req = client(server, token).post(`/oserve/v1/table/${t.body.id}/import/`);
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    const res = await req.attach('file', bytes, 'people.csv');
    return res;
  }

  test('UTF-16 with a BOM (Excel "Unicode Text": tab-separated) is detected and read', async () => {
    const tsv = 'name\tcity\tqty\r\n张三\t北京\t3\r\n李四\t上海市浦东新区\t5\r\n王五\t"广州,天河"\t7\r\n';
    const bytes = iconv(tsv, 'UTF-16');
    assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe]);
    const { job, rows } = await imported(bytes);
    assert.equal(job.encoding, 'utf-16le');
    assert.deepEqual(rows, CHINESE_ROWS);
  });

  test('UTF-16LE and UTF-16BE without a BOM are detected from their NUL bytes', async () => {
    for (const enc of ['UTF-16LE', 'UTF-16BE']) {
      const { job, rows } = await imported(iconv(CHINESE, enc));
      assert.equal(job.encoding, enc.toLowerCase());
      assert.deepEqual(rows, CHINESE_ROWS);
    }
  });

  test('GB18030 (GBK), as Chinese Excel and WPS save a CSV, is detected, and the job says so', async () => {
    const { job, rows } = await imported(iconv(CHINESE, 'GB18030'));
    assert.equal(job.encoding, 'gb18030');
    assert.deepEqual(rows, CHINESE_ROWS);
    // Named, under any of its labels, it reads the same.
    const named = await imported(iconv(CHINESE, 'GBK'), { encoding: 'GBK' });
    assert.equal(named.job.encoding, 'gbk');
    assert.deepEqual(named.rows, CHINESE_ROWS);
  });

  test('Shift_JIS with kana is detected', async () => {
    const text = 'name,city,qty\nやまだ たろう,東京,1\nスズキ,大阪,2\n';
    const { job, rows } = await imported(iconv(text, 'SHIFT_JIS'));
    assert.equal(job.encoding, 'shift_jis');
    assert.deepEqual(rows, [
      ['やまだ たろう', '東京', 1],
      ['スズキ', '大阪', 2],
    ]);
  });

  test('Big5 is refused naming Big5 and the option; with encoding=big5 it is read', async () => {
    const text = 'name,city,qty\n陳大文,臺北市,1\n林小明,高雄,2\n';
    const bytes = iconv(text, 'BIG5');
    const res = await refused(bytes);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error_code, 'invalid_file');
    assert.match(res.body.error_msg, /looks like Big5: set the import option "encoding" to "big5"/);
    const { job, rows } = await imported(bytes, { encoding: 'big5' });
    assert.equal(job.encoding, 'big5');
    assert.deepEqual(rows, [
      ['陳大文', '臺北市', 1],
      ['林小明', '高雄', 2],
    ]);
  });

  test('Windows-1252 (Western Excel) is refused naming it; with encoding=windows-1252 it is read', async () => {
    const text = 'name;city;qty\nZoë;Kraków;1\nJosé Müller;Zürich;2\nCrème brûlée;Besançon;3\n';
    const bytes = iconv(text, 'CP1252');
    const res = await refused(bytes);
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 'invalid_file');
    assert.match(res.body.error_msg, /not UTF-8 text; it looks like Windows-1252 .*"encoding" to "windows-1252"/);
    // Kraków's ó is in Windows-1252 but not its ł; iconv writes what it can.
    const { job, rows } = await imported(bytes, { encoding: 'latin1' });
    assert.equal(job.encoding, 'windows-1252');
    assert.deepEqual(rows, [
      ['Zoë', 'Kraków', 1],
      ['José Müller', 'Zürich', 2],
      ['Crème brûlée', 'Besançon', 3],
    ]);
  });

  test('ISO-8859-2 named by the user', async () => {
    const text = 'name,city,qty\nŁukasz Żółć,Łódź,4\n';
    const { job, rows } = await imported(iconv(text, 'ISO-8859-2'), { encoding: 'iso-8859-2' });
    assert.equal(job.encoding, 'iso-8859-2');
    assert.deepEqual(rows, [['Łukasz Żółć', 'Łódź', 4]]);
  });

  test('a UTF-8 file keeps working and says utf-8', async () => {
    const { job, rows } = await imported(Buffer.from(`\ufeff${CHINESE}`));
    assert.equal(job.encoding, 'utf-8');
    assert.deepEqual(rows, CHINESE_ROWS);
  });

  test('NDJSON and JSON in UTF-16 and GB18030 are read too', async () => {
    const ndjson =
      '{"name": "张三", "city": "北京", "qty": 3}\n{"name": "李四", "city": "上海市浦东新区", "qty": 5}\n{"name": "王五", "city": "广州,天河", "qty": 7}\n';
    for (const enc of ['UTF-16', 'GB18030']) {
      const { rows } = await imported(iconv(ndjson, enc), {}, 'p.ndjson');
      assert.deepEqual(rows, CHINESE_ROWS);
    }
    const json = `[${ndjson.trim().split('\n').join(',\n')}]`;
    const { job, rows } = await imported(iconv(json, 'UTF-16BE'), {}, 'p.json');
    assert.equal(job.encoding, 'utf-16be');
    assert.deepEqual(rows, CHINESE_ROWS);
  });

  test('an unknown encoding, and one a BOM contradicts, are refused saying what to do', async () => {
    const bad = await refused(Buffer.from(CHINESE), { encoding: 'klingon' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'invalid_parameter');
    assert.match(bad.body.error_msg, /encoding.*must be a text encoding such as utf-8/);
    const bom = await refused(iconv(CHINESE, 'UTF-16'), { encoding: 'gb18030' });
    assert.equal(bom.status, 400);
    assert.match(bom.body.error_msg, /UTF-16LE byte order mark, but "encoding" names GB18030/);
  });

  test('a bad byte past the first 64 KiB says where it is and what to set', async () => {
    const body = '张三,北京,3\n'.repeat(6000);
    const bytes = Buffer.concat([iconv(`name,city,qty\n${body}`, 'GB18030'), Buffer.from([0xff, 0x0a])]);
    const { job } = await importBytes(server, token, bytes, { schema: SCHEMA, name: 'p.csv' });
    assert.equal(job.status, 'failed');
    assert.match(job.errors[0]?.error_msg ?? '', /not valid GB18030 text \(.* near byte \d+\); set "encoding"/);
  });

  test('POST /table/import/ infers the schema of a GB18030 file and reads it in GB18030', async () => {
    const res = await client(server, token)
      .post('/oserve/v1/table/import/')
      .field('name', uniqueName('gb'))
      .attach('file', iconv(CHINESE, 'GB18030'), 'people.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.encoding, 'gb18030');
    assert.deepEqual(values(await rowsOf(server, token, res.body.table_id)), CHINESE_ROWS);
  });

  test('a file:// import finds the encoding when the job runs, and the job says it', async () => {
    await writeFile(join(dir, 'gb.csv'), iconv(CHINESE, 'GB18030'));
    const t = await client(server, token)
      .post('/oserve/v1/table/')
      .send({ name: uniqueName('src'), schema: SCHEMA });
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t.body.id}/import/`)
      .send({ source: `file://${join(dir, 'gb.csv')}` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.encoding, 'gb18030');
    assert.deepEqual(values(await rowsOf(server, token, t.body.id)), CHINESE_ROWS);
  });
});
