import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { client, createTable, download, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { defined } from '../../helpers/defined.js';

async function rowsOf(server: TestServer, token: string, tableId: number) {
  const res = await client(server, token).get(`/oserve/v1/table/${tableId}/record/?limit=1000&order_by=created_at`);
  return res.body.objects as Array<Record<string, unknown>>;
}

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
}

describe('import', () => {
  let server: TestServer;
  let token: string;
  let email: string;

  before(async () => {
    server = await startTestServer();
    ({ token, email } = await server.createUser());
  });
  after(() => server.close());

  test('a CSV in the export shape is written, the mail says how many rows, the upload is removed', async () => {
    const t = await createTable(server, token, 'people');
    const csv =
      'id,created_at,title,qty,price,paid,due,tags,meta\r\n' +
      'p1,100,"Smith, ""Al""\nJr.",3,2.5,true,2024-05-01T12:00:00Z,"[1,""a""]","{""k"":true}"\r\n' +
      'p2,200,中文 🎉,,,,,,\r\n' +
      ',,"",0,-0.5,FALSE,2024-05-01,[],{}\r\n';
    const res = await client(server, token).post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from(csv), 'people.csv');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 3);
    assert.equal(job.type, 'import');

    const rows = await rowsOf(server, token, t);
    assert.equal(rows.length, 3);
    const p1 = defined(
      rows.find((r) => r.id === 'p1'),
      'row p1',
    );
    assert.equal(p1.title, 'Smith, "Al"\nJr.');
    assert.equal(p1.created_at, 100);
    assert.equal(p1.qty, 3);
    assert.equal(p1.paid, true);
    assert.equal(p1.due, '2024-05-01T12:00:00.000Z');
    assert.deepEqual(p1.tags, [1, 'a']);
    assert.deepEqual(p1.meta, { k: true });
    const p2 = defined(
      rows.find((r) => r.id === 'p2'),
      'row p2',
    );
    assert.equal(p2.title, '中文 🎉');
    assert.equal(p2.qty, null);
    const gen = defined(
      rows.find((r) => r.id !== 'p1' && r.id !== 'p2'),
      'the generated row',
    );
    assert.equal(gen.title, '', 'a quoted empty cell is an empty string');
    assert.equal(gen.paid, false);
    assert.match(String(gen.id), /^[0-9a-f]{24}$/);

    const mail = await server.smtp.waitForMessage((m) => m.text.includes(job.id));
    assert.deepEqual(mail.to, [email]);
    assert.match(mail.subject, /people/);
    assert.match(mail.text, /\b3\b/);
    assert.deepEqual(await filesUnder(join(server.config.storageDir, 'imports')), [], 'the upload is gone');
  });

  test('JSON import keeps native types', async () => {
    const t = await createTable(server, token, 'people_json');
    const json = JSON.stringify(
      [
        { id: 'j1', created_at: 5, title: 'x', qty: 1, price: 1.25, paid: true, tags: ['a', { b: 1 }], meta: { deep: [null] } },
        { title: 'no id' },
      ],
      null,
      2,
    );
    const res = await client(server, token).post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from(json), 'p.json');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    assert.equal(job.rows, 2);
    const j1 = defined(
      (await rowsOf(server, token, t)).find((r) => r.id === 'j1'),
      'row j1',
    );
    assert.deepEqual(j1.tags, ['a', { b: 1 }]);
    assert.equal(j1.price, 1.25);
  });

  test('all or nothing: one bad row fails the job, writes no row, and the mail names the lines', async () => {
    const c = client(server, token);
    const t = await createTable(server, token, 'strict');
    await c.post(`/oserve/v1/table/${t}/record/`).send({ title: 'kept', created_at: 1 });
    const csv = 'title,qty,paid\nok,1,true\n"two\nlines",x,true\nfine,2,maybe\nlast,3,false\n';
    const res = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from(csv), 'bad.csv');
    assert.equal(res.status, 201);
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'failed');
    assert.equal(job.rows, 0);
    const lines = job.errors.filter((e) => e.line !== undefined).map((e) => [e.line, e.field]);
    assert.deepEqual(lines, [
      [3, 'qty'],
      [5, 'paid'],
    ]);
    assert.ok(job.errors.every((e) => e.error_msg.length > 0));
    const rows = await rowsOf(server, token, t);
    assert.deepEqual(
      rows.map((r) => r.title),
      ['kept'],
      'no row of the file was written',
    );

    const mail = await server.smtp.waitForMessage((m) => m.text.includes(job.id));
    assert.match(mail.subject, /strict/);
    assert.match(mail.text, /\b3\b/);
    assert.match(mail.text, /\b5\b/);
    assert.match(mail.text, /qty/);
  });

  test('a duplicate id (in the table or twice in the file) fails the import and writes nothing', async () => {
    const c = client(server, token);
    const t = await createTable(server, token, 'dups');
    await c.post(`/oserve/v1/table/${t}/record/`).send({ id: 'taken', title: 'old' });
    const res = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('id,title\nnew1,a\ntaken,b\n'), 'd.csv');
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'failed');
    assert.deepEqual(
      job.errors.filter((e) => e.line).map((e) => [e.line, e.field]),
      [[3, 'id']],
    );
    assert.match(job.errors[0]?.error_msg ?? '', /"taken"/);
    assert.deepEqual(
      (await rowsOf(server, token, t)).map((r) => r.id),
      ['taken'],
    );

    const t2 = await createTable(server, token, 'dups_in_file');
    const json = '[\n{"id": "x", "title": "a"},\n{"id": "y", "title": "b"},\n{"id": "x", "title": "c"}\n]';
    const res2 = await c.post(`/oserve/v1/table/${t2}/import/`).attach('file', Buffer.from(json), 'd.json');
    const job2 = await waitForJob(server, token, res2.body.job_id);
    assert.equal(job2.status, 'failed');
    assert.deepEqual(
      job2.errors.filter((e) => e.line).map((e) => [e.line, e.field]),
      [[4, 'id']],
    );
    assert.equal((await rowsOf(server, token, t2)).length, 0);
  });

  test('refused up front: binary, zip, not CSV/JSON, unknown columns; none uses the minute', async () => {
    const c = client(server, token);
    const t = await createTable(server, token, 'files');
    const cases: Array<[Buffer, string]> = [
      [Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0xff, 0xfe]), 'data.csv'],
      [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), 'image.csv'],
      [Buffer.from('title,colour\nx,red\n'), 'cols.csv'],
      [Buffer.from('{"colour": "x"}\n'), 'obj.ndjson'],
      [Buffer.from('{\n  "title": "x"\n}\n'), 'pretty.json'],
      [Buffer.from('<html>\n'), 'page.csv'],
    ];
    for (const [bytes, name] of cases) {
      const res = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', bytes, name);
      assert.equal(res.status, 400, name);
      assert.equal(res.body.error_code, 'invalid_file', `${name}: ${JSON.stringify(res.body)}`);
    }
    const cols = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('title,colour\nx,red\n'), 'c.csv');
    assert.match(cols.body.error_msg, /colour/);
    const noFile = await c.post(`/oserve/v1/table/${t}/import/`).field('x', '1');
    assert.equal(noFile.status, 400);
    assert.equal(noFile.body.error_code, 'invalid_parameter');
    assert.equal(noFile.body.parameter, 'file');
    const ok = await c.post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('title\nx\n'), 'ok.csv');
    assert.equal(ok.status, 201, 'the refused uploads did not take the minute');
    assert.deepEqual(await filesUnder(join(server.config.storageDir, '.incoming')), [], 'refused uploads are removed');
  });

  test('round trip: an export imported into an empty table with the same schema gives the same rows', async () => {
    const c = client(server, token);
    const src = await createTable(server, token, 'trip_src');
    const rows = [
      {
        id: 'a',
        created_at: 10,
        title: 'x, "y"\r\nz',
        qty: -7,
        price: 12.34567,
        paid: true,
        due: '2020-02-29T23:59:59.123Z',
        tags: ['1', 2, null],
        meta: { a: { b: [] } },
      },
      { id: 'b', created_at: 20, title: '', qty: null, price: 1e-7, paid: false, due: null, tags: [], meta: {} },
      { id: 'c', created_at: 30, title: null, qty: 0, price: null, paid: null, due: '1970-01-01T00:00:00.000Z', tags: null, meta: null },
      {
        id: 'd',
        created_at: 40,
        title: 'tab\there \\N back\\slash',
        qty: 1,
        price: 0,
        paid: true,
        due: null,
        tags: [''],
        meta: { '': '' },
      },
    ];
    await c.post(`/oserve/v1/table/${src}/record/`).send(rows);
    const before = await rowsOf(server, token, src);
    for (const fileType of ['csv', 'json'] as const) {
      const s = await createTable(server, token, `trip_src_${fileType}`);
      await c.post(`/oserve/v1/table/${s}/record/`).send(rows);
      const exp = await waitForJob(
        server,
        token,
        (await c.post(`/oserve/v1/table/${s}/export/`).send({ file_type: fileType, mode: 'all' })).body.job_id,
      );
      const file = await download(defined(exp.file_url, 'exp.file_url'));
      const dst = await createTable(server, token, `trip_dst_${fileType}`);
      const imp = await c
        .post(`/oserve/v1/table/${dst}/import/`)
        .attach('file', Buffer.from(file.body), defined(exp.file_name, 'exp.file_name'));
      assert.equal(imp.status, 201, JSON.stringify(imp.body));
      const done = await waitForJob(server, token, imp.body.job_id);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.errors));
      const after = await rowsOf(server, token, dst);
      assert.deepEqual(after, before, `${fileType} round trip`);
    }
  });
});

describe('import limits', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer({ env: { EXPORT_MAX_ROWS: '3', UPLOAD_MAX_BYTES: '1000' } });
    ({ token } = await server.createUser());
  });
  after(() => server.close());

  test('a file over UPLOAD_MAX_BYTES is 413 file_too_large', async () => {
    const t = await createTable(server, token, 'small');
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .attach('file', Buffer.from(`title\n${'x\n'.repeat(1000)}`), 'big.csv');
    assert.equal(res.status, 413);
    assert.equal(res.body.error_code, 'file_too_large');
  });

  test('a file with more rows than the cap fails its job with too_many_rows and writes nothing', async () => {
    const t = await createTable(server, token, 'capped');
    const res = await client(server, token)
      .post(`/oserve/v1/table/${t}/import/`)
      .attach('file', Buffer.from('title\na\nb\nc\nd\n'), 'four.csv');
    assert.equal(res.status, 201);
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'failed');
    assert.equal(job.errors[0]?.error_code, 'too_many_rows');
    assert.equal((await rowsOf(server, token, t)).length, 0);
  });
});
